//! Filling an empty database with the demo company (`hr::demo` generates it) and its two
//! sign-in accounts, whose passwords come from the OS generator and are shown once.

use chrono::NaiveDate;
use rand::rngs::OsRng;
use rand::Rng;

use super::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::db::{is_unique_violation, Db};
use crate::hr::begin_hr_write;
use crate::hr::demo::{
    self, generate, DemoCompany, DemoEmployee, DEMO_ADMIN_NAME, DEMO_EMPLOYEE_NAME,
};
use crate::hr::department::Department;
use crate::hr::employee::{DepartmentChoice, EmployeeFields};
use crate::hr::EmployeeStatus;
use crate::hr::{Employee, Location};
use crate::ids::{DepartmentId, EmployeeId};
use crate::secret::Secret;
use crate::users::password::HashError;
use crate::users::{CreateUserError, Email, NewUser, Role, User};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database already has data (accounts, employees or departments); \
         the demo company only fills an empty database"
    )]
    NotEmpty,
    #[error("cannot hash a demo password")]
    Hashing(#[from] HashError),
    #[error("database error while filling the demo company")]
    Database(#[from] sqlx::Error),
}

/// A demo sign-in, with its password in clear text for the operator to hand out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub title: String,
    pub role: Role,
    pub password: Secret<String>,
}

/// What a fill wrote.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub departments: usize,
    pub employees: usize,
    pub accounts: Vec<DemoAccount>,
}
/// A password for a demo account: 20 characters from an alphabet without look-alikes
/// (about 115 bits from the OS generator).
fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| char::from(ALPHABET[OsRng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Fills an empty database with the company for `seed` (start dates relative to `today`) and
/// one account per role whose fresh passwords are returned. Refuses, writing nothing, when the database
/// already has accounts, employees or departments.
pub async fn fill(app: &App, seed: u64, today: NaiveDate) -> Result<DemoReport, DemoError> {
    let (db, passwords) = (&app.db, &app.passwords);
    // A cheap early answer before any hashing; the write below checks again, atomically.
    if !is_empty(db).await? {
        return Err(DemoError::NotEmpty);
    }
    let company = generate(seed, today);
    let mut accounts = Vec::new();
    let mut hashes = Vec::new();
    for (person, role) in account_holders(&company) {
        let password = demo_password();
        // Hashed before the transaction opens: no connection is held across argon2.
        hashes.push(passwords.hash(&password).await?);
        accounts.push(DemoAccount {
            email: person.email.clone(),
            name: person.name.clone(),
            title: person.title.clone(),
            role,
            password: password.into(),
        });
    }
    install(db, &company, &accounts, &hashes, app.clock.now()).await?;
    app.company.invalidate();
    Ok(DemoReport {
        departments: company.departments.len(),
        employees: company.employees.len(),
        accounts,
    })
}

/// Who gets a sign-in account, one per role: the head of People (administrator), an engineer
/// (employee), and — chosen the same way for the same seed — an active member of People (HR), of
/// Engineering (security) and of Finance (auditor).
fn account_holders(company: &DemoCompany) -> Vec<(&DemoEmployee, Role)> {
    let named = |name: &str| company.employees.iter().find(|e| e.name == name);
    let mut holders: Vec<(&DemoEmployee, Role)> = Vec::new();
    if let Some(admin) = named(DEMO_ADMIN_NAME) {
        holders.push((admin, Role::Admin));
    }
    if let Some(employee) = named(DEMO_EMPLOYEE_NAME) {
        holders.push((employee, Role::Employee));
    }
    for (department, role) in [
        ("People", Role::Hr),
        ("Engineering", Role::Security),
        ("Finance", Role::Auditor),
    ] {
        let Some(index) = company.departments.iter().position(|d| d == department) else {
            continue;
        };
        let chosen = company.employees.iter().find(|e| {
            e.department == index
                && e.status == EmployeeStatus::Active
                && e.manager.is_some()
                && holders.iter().all(|(held, _)| held.email != e.email)
        });
        if let Some(person) = chosen {
            holders.push((person, role));
        }
    }
    holders
}

async fn is_empty(db: &Db) -> Result<bool, sqlx::Error> {
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM employees) \
              + (SELECT COUNT(*) FROM departments)",
    )
    .fetch_one(&mut *db.read().await?)
    .await?;
    Ok(rows == 0)
}

/// Writes the company, the accounts and their events in one transaction: all of it or nothing.
async fn install(
    db: &Db,
    company: &DemoCompany,
    accounts: &[DemoAccount],
    hashes: &[String],
    now: i64,
) -> Result<(), DemoError> {
    let mut tx = begin_hr_write(db).await?;
    let mut department_ids: Vec<DepartmentId> = Vec::with_capacity(company.departments.len());
    for (i, name) in company.departments.iter().enumerate() {
        let id = if i == 0 {
            match Department::create_first(&mut tx, name).await {
                Ok(Some(id)) => id,
                // Someone else filled the database since the early check.
                Ok(None) => return Err(DemoError::NotEmpty),
                Err(e) if is_unique_violation(&e) => return Err(DemoError::NotEmpty),
                Err(e) => return Err(e.into()),
            }
        } else {
            Department::create(&mut tx, name).await?
        };
        department_ids.push(id);
    }
    // The locations list first, so the form offers every place the demo people work at.
    for person in &company.employees {
        Location::find_or_create(&mut tx, &person.location).await?;
    }
    let mut employee_ids: Vec<EmployeeId> = Vec::with_capacity(company.employees.len());
    for (index, person) in company.employees.iter().enumerate() {
        let fields = EmployeeFields {
            name: person.name.clone(),
            email: person.email.clone(),
            title: person.title.clone(),
            department: DepartmentChoice::Existing(department_ids[person.department]),
            manager_id: person.manager.map(|m| employee_ids[m]),
            location: person.location.clone(),
            start_date: person.start_date,
            status: person.status,
            left_on: person.left_on,
            work_phone: Some(demo::work_phone(index)),
        };
        let id = Employee::insert(&mut tx, &fields, department_ids[person.department]).await?;
        employee_ids.push(id);
    }
    for (account, hash) in accounts.iter().zip(hashes) {
        let Some(index) = company
            .employees
            .iter()
            .position(|e| e.email == account.email)
        else {
            continue;
        };
        let email = Email::parse(&account.email).map_err(|e| {
            sqlx::Error::Decode(format!("demo address {:?}: {e}", account.email).into())
        })?;
        let new = NewUser {
            email: &email,
            name: &account.name,
            role: account.role,
            password_hash: Secret::new(hash),
            must_change_password: false,
        };
        let created = User::create(&mut tx, &new, Some(employee_ids[index]), now).await;
        let user = match created {
            Ok(user) => user,
            Err(CreateUserError::EmailTaken | CreateUserError::LooksLike(_)) => {
                return Err(DemoError::NotEmpty)
            }
            Err(CreateUserError::Database(e)) => return Err(e.into()),
        };
        let event = Event::new(EventKind::UserCreated, &Origin::command_line())
            .subject(user.id)
            .detail(format!("demo account, role {}", account.role.as_str()));
        audit::record(&mut tx, now, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_are_long_and_different() {
        let a = demo_password();
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, demo_password());
    }
}
