//! How the users table is ordered: a column and a direction, each one fixed `ORDER BY` (the query
//! string only ever chooses among them), ending with the id so pages never overlap.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountOrder {
    pub column: AccountColumn,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountColumn {
    #[default]
    Name,
    Email,
    Created,
}

impl AccountColumn {
    pub const ALL: [AccountColumn; 3] = [
        AccountColumn::Name,
        AccountColumn::Email,
        AccountColumn::Created,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountColumn::Name => "name",
            AccountColumn::Email => "email",
            AccountColumn::Created => "created",
        }
    }
}

impl AccountOrder {
    /// `?sort=` and `?dir=`; an unknown key falls back to the default order (an old link opens).
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> AccountOrder {
        AccountOrder {
            column: AccountColumn::ALL
                .into_iter()
                .find(|c| Some(c.as_str()) == sort)
                .unwrap_or_default(),
            descending: dir == Some("desc"),
        }
    }

    /// The `ORDER BY` list: the app's own text, never input.
    pub(super) fn sql(self) -> &'static str {
        match (self.column, self.descending) {
            (AccountColumn::Name, false) => "name, id",
            (AccountColumn::Name, true) => "name DESC, id DESC",
            (AccountColumn::Email, false) => "email, id",
            (AccountColumn::Email, true) => "email DESC, id DESC",
            (AccountColumn::Created, false) => "created_at, id",
            (AccountColumn::Created, true) => "created_at DESC, id DESC",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_fall_back_to_names_ascending() {
        assert_eq!(
            AccountOrder::parse(Some("shoe-size"), None),
            AccountOrder::default()
        );
        let order = AccountOrder::parse(Some("email"), Some("desc"));
        assert_eq!(order.sql(), "email DESC, id DESC");
    }
}
