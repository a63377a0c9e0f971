//! Users and groups.

use super::{Store, StoreError};
use crate::model::{Group, User};
use rusqlite::{ErrorCode, OptionalExtension, Row, ToSql, params};

/// The message of the schema's triggers that refuse a username taken regardless of case.
const USERNAME_TAKEN: &str = "username taken";

/// A user as the resource API shows it (DRF's UserSerializer, without the password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Django's name for an admin.
    pub is_staff: bool,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Ids of the groups the user belongs to.
    pub groups: Vec<i64>,
    /// The user's subject, never reused: what the admin page's actions name them by. Not part
    /// of the API's answer.
    #[serde(skip)]
    pub subject: String,
}

/// What adding a user stores; the database gives it its row id and its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Contact address, may be empty.
    pub email: &'a str,
    /// An administrator or the CLI set the address; false when the user gave it themselves.
    pub email_verified: bool,
    /// Display name, may be empty.
    pub name: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// May use the admin pages and create users.
    pub is_admin: bool,
}

/// What removing a user did to their applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Removed {
    /// How many applications they owned (now owned by nobody).
    pub disowned: usize,
    /// How many of those the administrator's switch turned off, because the user was
    /// disabled: without their owner they would have become usable again.
    pub switched_off: usize,
}

/// A user as `oauthd user list` shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct UserListing {
    /// Login name.
    pub username: String,
    /// May use the admin pages and create users.
    pub admin: bool,
    /// May log in.
    pub active: bool,
    /// Contact address, may be empty.
    pub email: String,
    /// Display name, may be empty.
    pub name: String,
    /// When the user was added, unix seconds.
    pub created: i64,
}

const USER_COLUMNS: &str =
    "id, username, email, email_verified, name, subject, password_hash, is_admin, is_active";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        email_verified: row.get(3)?,
        name: row.get(4)?,
        subject: row.get(5)?,
        password_hash: row.get(6)?,
        is_admin: row.get(7)?,
        is_active: row.get(8)?,
    })
}

/// The schema's trigger refused the username as taken regardless of case.
fn is_username_taken(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(code, Some(message))
            if code.code == ErrorCode::ConstraintViolation && message == USERNAME_TAKEN
    )
}

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

impl Store {
    /// Adds a user (the schema's trigger gives them a fresh subject); `None` when the username
    /// is taken, regardless of case.
    pub(crate) fn create_user(
        &self,
        user: &NewUser<'_>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO users (username, email, email_verified, name, password_hash, is_admin, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?;
        let values = params![
            user.username,
            user.email,
            user.email_verified,
            user.name,
            user.password_hash,
            user.is_admin,
            now
        ];
        match stmt.query_row(values, |r| r.get(0)) {
            Ok(id) => Ok(Some(id)),
            Err(e) if is_username_taken(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The user with this row id (for an id_token's or userinfo's claims).
    pub(crate) fn find_user(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user_where("id", &id)
    }

    /// The user with this subject (what the admin page's actions name users by: unlike a row
    /// id, a subject is never given to another user).
    pub(crate) fn find_user_by_subject(&self, subject: &str) -> Result<Option<User>, StoreError> {
        self.user_where("subject", &subject)
    }

    /// The user whose unique `column` (a name from this file, never input) holds `value`.
    fn user_where(&self, column: &str, value: &dyn ToSql) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([value], user_from_row)
            .optional()?)
    }

    /// The user with this username: the exact one, else the only one whose name differs in
    /// case alone; `None` when there is none or the case leaves a choice (usernames that
    /// clashed before version 6 of the schema).
    pub fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = ?1 COLLATE NOCASE
             ORDER BY username = ?1 DESC LIMIT 2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let found = stmt
            .query_map([username], user_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut found = found.into_iter();
        Ok(match (found.next(), found.next()) {
            (Some(exact), _) if exact.username == username => Some(exact),
            (only, None) => only,
            (_, Some(_)) => None,
        })
    }

    /// Replaces a user's password hash; `false` when there is no such user.
    pub(crate) fn set_password(&self, id: i64, password_hash: &str) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
            .execute(params![id, password_hash])?;
        Ok(changed > 0)
    }

    /// Deletes a user with their sessions, codes, grants and tokens (the schema cascades);
    /// their applications are kept, owned by nobody. A disabled user's applications were
    /// unusable with them, and stay so: the administrator's switch turns off those it had not
    /// turned off yet. `None` when there is no such user. Call it inside [`Store::immediate`].
    pub(crate) fn remove_user(&self, id: i64) -> Result<Option<Removed>, StoreError> {
        let switched_off = self
            .conn
            .prepare_cached(
                "UPDATE applications SET disabled_by_admin = 1
                 WHERE owner_id = ?1 AND NOT disabled_by_admin
                   AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND NOT is_active)",
            )?
            .execute([id])?;
        let disowned = self
            .conn
            .prepare_cached("UPDATE applications SET owner_id = NULL WHERE owner_id = ?1")?
            .execute([id])?;
        let removed = self
            .conn
            .prepare_cached("DELETE FROM users WHERE id = ?1")?
            .execute([id])?;
        Ok((removed > 0).then_some(Removed {
            disowned,
            switched_off,
        }))
    }

    /// Every user for `oauthd user list`, by username.
    pub(crate) fn user_listing(&self) -> Result<Vec<UserListing>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT username, is_admin, is_active, email, name, created FROM users
             ORDER BY username COLLATE NOCASE, username",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(UserListing {
                username: row.get(0)?,
                admin: row.get(1)?,
                active: row.get(2)?,
                email: row.get(3)?,
                name: row.get(4)?,
                created: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Usernames that differ only in case, in groups (possible only in a database from before
    /// version 6 of the schema, which refuses new ones).
    pub(crate) fn username_clashes(&self) -> Result<Vec<Vec<String>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT username FROM users u
             WHERE EXISTS (SELECT 1 FROM users o WHERE o.username = u.username COLLATE NOCASE
                           AND o.id <> u.id)
             ORDER BY username COLLATE NOCASE, username",
        )?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut groups: Vec<Vec<String>> = Vec::new();
        for name in names {
            match groups.last_mut() {
                Some(group) if group.iter().any(|n| n.eq_ignore_ascii_case(&name)) => {
                    group.push(name);
                }
                _ => groups.push(vec![name]),
            }
        }
        Ok(groups)
    }

    /// Enables or disables a user; `false` when there is no such user. A disabled user cannot
    /// log in and their tokens stop working.
    pub(crate) fn set_user_active(&self, id: i64, active: bool) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE users SET is_active = ?2 WHERE id = ?1")?
            .execute(params![id, active])?;
        Ok(changed > 0)
    }

    /// Users as the API shows them, by id; `only` narrows to one user.
    pub fn user_views(&self, only: Option<i64>) -> Result<Vec<UserView>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.id, u.username, u.email, u.is_admin, u.is_active,
                    (SELECT group_concat(group_id, ' ') FROM user_groups g WHERE g.user_id = u.id),
                    u.subject
             FROM users u WHERE ?1 IS NULL OR u.id = ?1 ORDER BY u.id",
        )?;
        let rows = stmt.query_map([only], |row| {
            let groups: Option<String> = row.get(5)?;
            Ok(UserView {
                id: row.get(0)?,
                username: row.get(1)?,
                email: row.get(2)?,
                is_staff: row.get(3)?,
                is_active: row.get(4)?,
                groups: groups
                    .unwrap_or_default()
                    .split(' ')
                    .filter_map(|g| g.parse().ok())
                    .collect(),
                subject: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a group; `None` when the name is taken.
    pub(crate) fn create_group(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO groups (name) VALUES (?1) ON CONFLICT (name) DO NOTHING RETURNING id",
        )?;
        Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
    }

    /// Puts a user in a group (no-op when already a member).
    pub(crate) fn add_group_member(&self, group_id: i64, user_id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (?1, ?2)",
            )?
            .execute([user_id, group_id])?;
        Ok(())
    }

    /// Groups by id; `only` narrows to one group.
    pub fn groups(&self, only: Option<i64>) -> Result<Vec<Group>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name FROM groups WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([only], group_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::secret::digest;
    use crate::store::NewApplication;
    use crate::store::apps::tests::valid_new_app;

    const HOSTILE_NAME: &str = "Bob \"e'i;--ü";

    /// A user with this name, no email and no display name, not an administrator.
    pub(crate) fn valid_new_user(username: &str) -> NewUser<'_> {
        NewUser {
            username,
            email: "",
            email_verified: false,
            name: "",
            password_hash: "h",
            is_admin: false,
        }
    }

    /// Adds `username` (see [`valid_new_user`]) and returns their row id.
    pub(crate) fn add_user(store: &Store, username: &str) -> i64 {
        store
            .create_user(&valid_new_user(username), 1)
            .unwrap()
            .unwrap()
    }

    /// 32 lowercase hex digits: 128 random bits, as the schema draws them.
    pub(crate) fn is_subject(text: &str) -> bool {
        text.len() == 32 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    }

    #[test]
    fn users_are_unique_by_name_and_listed_with_groups() {
        let store = Store::open_in_memory().unwrap();
        let hostile = NewUser {
            email: "b@example.com",
            is_admin: true,
            ..valid_new_user("bob\"e'i;--ü")
        };
        let bob = store.create_user(&hostile, 5).unwrap().unwrap();
        assert_eq!(
            store
                .create_user(&valid_new_user("bob\"e'i;--ü"), 6)
                .unwrap(),
            None
        );
        let eve = add_user(&store, "eve");
        let staff = store.create_group("staff").unwrap().unwrap();
        assert_eq!(store.create_group("staff").unwrap(), None);
        store.add_group_member(staff, bob).unwrap();
        store.add_group_member(staff, bob).unwrap();
        let views = store.user_views(None).unwrap();
        assert_eq!(views.len(), 2);
        assert_eq!(
            (views[0].is_staff, views[0].groups.clone()),
            (true, vec![staff])
        );
        assert_eq!(
            store.user_views(Some(eve)).unwrap()[0].groups,
            Vec::<i64>::new()
        );
        assert_eq!(store.user_views(Some(999)).unwrap(), vec![]);
        assert_eq!(
            store
                .find_user_by_username("bob\"e'i;--ü")
                .unwrap()
                .unwrap()
                .email,
            "b@example.com"
        );
        assert_eq!(
            store.groups(None).unwrap(),
            vec![Group {
                id: staff,
                name: "staff".into()
            }]
        );
    }

    #[test]
    fn usernames_are_unique_regardless_of_case_and_found_in_any_case() {
        let store = Store::open_in_memory().unwrap();
        let alice = add_user(&store, "alice");
        for taken in ["alice", "Alice", "ALICE"] {
            assert_eq!(
                store.create_user(&valid_new_user(taken), 2).unwrap(),
                None,
                "{taken}"
            );
        }
        let bob = add_user(&store, "bob");
        let rename = store
            .conn
            .execute("UPDATE users SET username = 'ALICE' WHERE id = ?1", [bob]);
        assert!(rename.is_err(), "a rename cannot make a clash either");
        store
            .conn
            .execute("UPDATE users SET username = 'Bob' WHERE id = ?1", [bob])
            .unwrap();
        assert_eq!(store.user_views(None).unwrap().len(), 2);
        let found = |name| store.find_user_by_username(name).unwrap().map(|u| u.id);
        assert_eq!(
            (found("alice"), found("ALICE"), found("bob")),
            (Some(alice), Some(alice), Some(bob))
        );
        assert_eq!(found("alice2"), None);
        assert_eq!(store.username_clashes().unwrap(), Vec::<Vec<String>>::new());
    }

    #[test]
    fn old_clashes_are_reported_and_found_only_by_their_exact_name() {
        let store = Store::open_in_memory().unwrap();
        // As a database from before version 6 may hold them.
        store
            .conn
            .execute_batch(
                "DROP TRIGGER users_username_unique_on_insert;
                 INSERT INTO users (username, password_hash, created)
                 VALUES ('alice', 'h', 1), ('Alice', 'h', 1), ('ALICE', 'h', 1),
                        ('bob', 'h', 1), ('Eve', 'h', 1), ('eve', 'h', 1)",
            )
            .unwrap();
        assert_eq!(
            store.username_clashes().unwrap(),
            vec![vec!["ALICE", "Alice", "alice"], vec!["Eve", "eve"]]
        );
        let found = |name| {
            store
                .find_user_by_username(name)
                .unwrap()
                .map(|u| u.username)
        };
        assert_eq!(found("Alice").as_deref(), Some("Alice"));
        assert_eq!(found("eve").as_deref(), Some("eve"));
        assert_eq!(found("aLiCe"), None, "ambiguous");
        assert_eq!(found("BOB").as_deref(), Some("bob"));
    }

    #[test]
    fn a_password_is_replaced_and_a_removed_user_leaves_their_apps_without_owner() {
        let store = Store::open_in_memory().unwrap();
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        assert!(store.set_password(bob, "new hash").unwrap());
        assert!(!store.set_password(bob + 99, "new hash").unwrap());
        assert_eq!(
            store.find_user(bob).unwrap().unwrap().password_hash,
            "new hash"
        );
        assert_eq!(store.find_user(eve).unwrap().unwrap().password_hash, "h");

        let owned = |client_id: &str, owner| NewApplication {
            client_id: client_id.into(),
            owner_id: Some(owner),
            ..valid_new_app()
        };
        for (client_id, owner) in [("b1", bob), ("b2", bob), ("e1", eve)] {
            store.create_app(&owned(client_id, owner), 1).unwrap();
        }
        store
            .create_session(&digest("bob"), Some(bob), "c", 1, 100)
            .unwrap();
        let staff = store.create_group("staff").unwrap().unwrap();
        store.add_group_member(staff, bob).unwrap();
        let removed = store.remove_user(bob).unwrap();
        let kept_on = Removed {
            disowned: 2,
            switched_off: 0,
        };
        assert_eq!(removed, Some(kept_on));
        assert_eq!(store.remove_user(bob).unwrap(), None);
        assert_eq!(store.find_user(bob).unwrap(), None);
        let owner = |client_id| store.find_app_by_client_id(client_id).unwrap().unwrap();
        assert_eq!((owner("b1").owner_id, owner("b2").owner_id), (None, None));
        assert!(owner("b1").usable, "an app without owner still works");
        assert_eq!(owner("e1").owner_id, Some(eve));
        assert_eq!(store.find_session(&digest("bob"), 50).unwrap(), None);
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM user_groups", [], |r| r.get(0))
            .unwrap();
        assert_eq!(members, 0);
    }

    #[test]
    fn the_listing_shows_every_user_by_name() {
        let store = Store::open_in_memory().unwrap();
        let new = NewUser {
            email: "b@example.com",
            name: HOSTILE_NAME,
            is_admin: true,
            ..valid_new_user("bob")
        };
        store.create_user(&new, 7).unwrap();
        let eve = add_user(&store, "Eve");
        store.set_user_active(eve, false).unwrap();
        add_user(&store, "alice");
        let listing = store.user_listing().unwrap();
        let names: Vec<_> = listing.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "Eve"]);
        assert_eq!(
            listing[1],
            UserListing {
                username: "bob".into(),
                admin: true,
                active: true,
                email: "b@example.com".into(),
                name: HOSTILE_NAME.into(),
                created: 7,
            }
        );
        assert!(!listing[2].active && !listing[2].admin);
    }

    #[test]
    fn a_user_is_stored_with_their_openid_fields_and_found_by_id() {
        let store = Store::open_in_memory().unwrap();
        let new = NewUser {
            email: "b@example.com",
            email_verified: true,
            name: "Bob \"e'i;--ü",
            ..valid_new_user("bob")
        };
        let id = store.create_user(&new, 1).unwrap().unwrap();
        let bob = store.find_user(id).unwrap().unwrap();
        assert_eq!(
            (
                bob.username.as_str(),
                bob.email.as_str(),
                bob.email_verified,
                bob.name.as_str()
            ),
            ("bob", "b@example.com", true, "Bob \"e'i;--ü")
        );
        assert!(is_subject(&bob.subject), "{}", bob.subject);
        assert_eq!(store.find_user_by_username("bob").unwrap(), Some(bob));
        assert_eq!(store.find_user(id + 1).unwrap(), None);
    }

    #[test]
    fn subjects_are_distinct_and_never_reused_for_a_reused_row_id() {
        let store = Store::open_in_memory().unwrap();
        let subject = |id| store.find_user(id).unwrap().unwrap().subject;
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        let (bobs, eves) = (subject(bob), subject(eve));
        assert!(is_subject(&bobs) && is_subject(&eves), "{bobs} {eves}");
        assert_ne!(bobs, eves);
        // Without AUTOINCREMENT SQLite hands the highest id out again after a delete.
        store
            .conn
            .execute("DELETE FROM users WHERE id = ?1", [eve])
            .unwrap();
        let mallory = add_user(&store, "mallory");
        assert_eq!(mallory, eve, "the row id is reused");
        let mallorys = subject(mallory);
        assert!(is_subject(&mallorys), "{mallorys}");
        assert!(mallorys != eves && mallorys != bobs);
    }
}
