//! Registered passkeys: one row per WebAuthn credential, holding the library's record of it (public
//! key, signature counter, backup flags — nothing secret), the name its owner gave it, and when it
//! was made and last used.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use webauthn_rs::prelude::Passkey;

use crate::db::numbered_placeholders;
use crate::ids::{PasskeyId, UserId};

/// Most passkeys one account may register (every one is a way in; a page of them is plenty).
pub const MAX_PASSKEYS_PER_ACCOUNT: i64 = 20;

/// Longest name a person may give a passkey.
pub const MAX_PASSKEY_NAME_CHARS: usize = 60;

/// A passkey as listed on /account/passkeys.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct PasskeySummary {
    pub handle: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey as loaded to check a sign-in with it.
#[derive(Debug, Clone, FromRow)]
pub struct StoredPasskey {
    pub id: PasskeyId,
    pub user_id: UserId,
    pub user_handle: String,
    pub name: String,
    credential: String,
}

impl StoredPasskey {
    /// The library's record, as stored at registration (or after the last counter update).
    /// `None` if the stored JSON does not read (a library change that dropped compatibility).
    pub fn passkey(&self) -> Option<Passkey> {
        serde_json::from_str(&self.credential).ok()
    }
}

/// A passkey about to be stored.
#[derive(Debug)]
pub struct NewPasskey<'a> {
    pub user_id: UserId,
    pub user_handle: &'a str,
    pub name: &'a str,
    pub passkey: &'a Passkey,
}

/// The base64url (unpadded) form of a credential id, as stored and looked up.
pub fn credential_key(raw_id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw_id)
}

/// Tidies a name as typed: surrounding space trimmed, control characters refused. `Err` says why.
pub fn clean_name(typed: &str) -> Result<String, &'static str> {
    let name = typed.trim();
    if name.is_empty() {
        return Err("Give the passkey a name, for example \"work laptop\".");
    }
    if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
        return Err("A passkey's name can be at most 60 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("A passkey's name cannot contain control characters.");
    }
    Ok(name.to_string())
}

pub struct Passkeys;

impl Passkeys {
    /// The account's passkeys, newest first.
    pub async fn list_for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<Vec<PasskeySummary>, sqlx::Error> {
        sqlx::query_as(
            "SELECT handle, name, created_at, last_used_at FROM passkeys \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await
    }

    /// What a new registration needs to know of the account's passkeys: the WebAuthn user id of
    /// the first (new ones reuse it; two registrations racing from nothing may each pick one, and
    /// a sign-in checks each credential against its own), how many there are, and their
    /// credential ids (the browser refuses to register one of those again).
    pub async fn registered_for(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<Registered, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_handle, credential FROM passkeys WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        let user_handle = rows.first().map(|(handle, _)| handle.clone());
        let count = rows.len() as i64;
        let credentials = rows
            .iter()
            .filter_map(|(_, json)| serde_json::from_str::<Passkey>(json).ok())
            .map(|passkey| passkey.cred_id().clone())
            .collect();
        Ok(Registered {
            user_handle,
            count,
            credentials,
        })
    }

    /// Stores a passkey; its handle, or `None` when that credential is already registered (to
    /// this account or any other: a credential belongs to one account only).
    pub async fn insert(
        conn: &mut AnyConnection,
        new: &NewPasskey<'_>,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let handle = crate::token::random_handle();
        let credential = serde_json::to_string(new.passkey)
            .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let stored: Option<String> = sqlx::query_scalar(
            "INSERT INTO passkeys (handle, user_id, credential_id, user_handle, name, credential, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (credential_id) DO NOTHING RETURNING handle",
        )
        .bind(&handle)
        .bind(new.user_id)
        .bind(credential_key(new.passkey.cred_id()))
        .bind(new.user_handle)
        .bind(new.name)
        .bind(credential)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(stored)
    }

    /// The passkey with this credential id, if registered.
    pub async fn find_by_credential(
        conn: &mut AnyConnection,
        raw_id: &[u8],
    ) -> Result<Option<StoredPasskey>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, user_id, user_handle, name, credential FROM passkeys \
             WHERE credential_id = $1",
        )
        .bind(credential_key(raw_id))
        .fetch_optional(&mut *conn)
        .await
    }

    /// Records a sign-in with the passkey and its record after it (counter, backup state) — only
    /// if the record is still the one the sign-in was checked against. False when a parallel
    /// sign-in moved the counter first (so a counter can never be written backwards) or the
    /// passkey was removed meanwhile.
    pub async fn record_use(
        conn: &mut AnyConnection,
        checked: &StoredPasskey,
        after: &Passkey,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let credential =
            serde_json::to_string(after).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let done = sqlx::query(
            "UPDATE passkeys SET last_used_at = $1, credential = $2 WHERE id = $3 AND credential = $4",
        )
        .bind(now)
        .bind(credential)
        .bind(checked.id)
        .bind(&checked.credential)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Renames one of the account's passkeys; its name before, or `None` if it is not theirs.
    /// (Renaming to the same name changes nothing; the caller tells by comparing.)
    pub async fn rename_own(
        conn: &mut AnyConnection,
        user_id: UserId,
        handle: &str,
        name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let before: Option<String> =
            sqlx::query_scalar("SELECT name FROM passkeys WHERE user_id = $1 AND handle = $2")
                .bind(user_id)
                .bind(handle)
                .fetch_optional(&mut *conn)
                .await?;
        if before.is_some() {
            sqlx::query("UPDATE passkeys SET name = $1 WHERE user_id = $2 AND handle = $3")
                .bind(name)
                .bind(user_id)
                .bind(handle)
                .execute(&mut *conn)
                .await?;
        }
        Ok(before)
    }

    /// Removes one of the account's passkeys; its name, or `None` if it is not theirs.
    pub async fn delete_own(
        conn: &mut AnyConnection,
        user_id: UserId,
        handle: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("DELETE FROM passkeys WHERE user_id = $1 AND handle = $2 RETURNING name")
            .bind(user_id)
            .bind(handle)
            .fetch_optional(&mut *conn)
            .await
    }

    /// The account's passkeys added at or after `since`: (name, when), oldest first.
    pub async fn added_since(
        conn: &mut AnyConnection,
        user_id: UserId,
        since: i64,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT name, created_at FROM passkeys WHERE user_id = $1 AND created_at >= $2 \
             ORDER BY created_at, id",
        )
        .bind(user_id)
        .bind(since)
        .fetch_all(&mut *conn)
        .await
    }

    /// Removes the account's passkeys added at or after `since`; their names.
    pub async fn delete_added_since(
        conn: &mut AnyConnection,
        user_id: UserId,
        since: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "DELETE FROM passkeys WHERE user_id = $1 AND created_at >= $2 RETURNING name",
        )
        .bind(user_id)
        .bind(since)
        .fetch_all(&mut *conn)
        .await
    }

    /// Removes every passkey of the account (an administrator's two-factor reset); how many.
    pub async fn delete_for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<u64, sqlx::Error> {
        crate::db::delete_rows_of_user(conn, "passkeys", user_id).await
    }

    /// How many passkeys the account has (checked again as a new one is stored).
    pub async fn count_for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await
    }

    /// How many passkeys each of these accounts has (accounts without any are left out).
    pub async fn counts_among(
        conn: &mut AnyConnection,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, i64)>, sqlx::Error> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT user_id, COUNT(*) FROM passkeys WHERE user_id IN ({}) GROUP BY user_id",
            numbered_placeholders(1, user_ids.len())
        );
        let mut query = sqlx::query_as::<_, (UserId, i64)>(&sql);
        for id in user_ids {
            query = query.bind(*id);
        }
        query.fetch_all(&mut *conn).await
    }
}

/// An account's passkeys as a new registration sees them.
#[derive(Debug)]
pub struct Registered {
    pub user_handle: Option<String>,
    pub count: i64,
    pub credentials: Vec<webauthn_rs::prelude::CredentialID>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_must_say_something() {
        assert_eq!(clean_name("  work laptop ").unwrap(), "work laptop");
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"x".repeat(61)).is_err());
        assert!(clean_name("tab\there").is_err());
        assert_eq!(
            clean_name("Dana’s YubiKey 5C").unwrap(),
            "Dana’s YubiKey 5C"
        );
    }
}
