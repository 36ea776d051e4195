//! One story of store behaviour, run on SQLite and, when configured, on a real
//! PostgreSQL: both backends must answer alike.

use gloss_store::{
    snapshot_tables, Error, NewProject, NewUser, ProjectPatch, ProjectScope, SnapshotTable,
    SnapshotWriter, Store, StoreOptions, TableRows, MIGRATION_COUNT,
};
use gloss_test_support::{databases, open_store, TestDb};
use gloss_types::{PageRequest, ProjectRole, Role, Timestamp, User};
use serde_json::Value;

async fn user(store: &Store, name: &str, role: Role) -> User {
    let new = NewUser {
        username: name.to_string(),
        password_hash: format!("hash-of-{name}"),
        role,
    };
    store.create_user(&new).await.unwrap()
}

#[tokio::test]
async fn accounts_tokens_and_sessions() {
    for db in databases().await {
        let store = open_store(&db).await;
        let label = db.label;
        assert_eq!(
            store.schema_version().await.unwrap(),
            MIGRATION_COUNT,
            "{label}"
        );

        let alice = user(&store, "alice", Role::Admin).await;
        let err = store
            .create_user(&NewUser {
                username: "alice".into(),
                password_hash: "x".into(),
                role: Role::Annotator,
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict(ref message) if message.contains("alice")),
            "{label}: {err}"
        );
        let (found, hash) = store.user_with_password("alice").await.unwrap();
        assert_eq!(
            (found.id, hash.as_str()),
            (alice.id, "hash-of-alice"),
            "{label}"
        );
        assert!(
            matches!(store.user_by_username("nobody").await, Err(Error::NotFound)),
            "{label}"
        );

        for idx in 0..5 {
            user(&store, &format!("user{idx}"), Role::Annotator).await;
        }
        let first = store.list_users(PageRequest::first(4)).await.unwrap();
        assert_eq!(first.items.len(), 4, "{label}");
        let after = first.next.as_deref().unwrap().parse().unwrap();
        let second = store
            .list_users(PageRequest {
                after: Some(after),
                limit: 4,
            })
            .await
            .unwrap();
        assert_eq!(second.items.len(), 2, "{label}");
        assert_eq!(second.next, None, "{label}");
        assert_eq!(second.items[1].username, "user4", "{label}");

        assert_eq!(store.count_active_admins().await.unwrap(), 1, "{label}");
        let demoted = store
            .update_user(alice.id, Role::Manager, false)
            .await
            .unwrap();
        assert_eq!(
            (demoted.role, demoted.active),
            (Role::Manager, false),
            "{label}"
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 0, "{label}");
        store
            .update_user(alice.id, Role::Admin, true)
            .await
            .unwrap();

        let token = store
            .create_token(alice.id, "ci", "token-hash", "gls_abc")
            .await
            .unwrap();
        let (owner, token_id, last_used) = store.user_by_token_hash("token-hash").await.unwrap();
        assert_eq!(
            (owner.id, token_id, last_used),
            (alice.id, token.id, None),
            "{label}"
        );
        store.touch_token(token.id, Timestamp(1234)).await.unwrap();
        assert_eq!(
            store.user_by_token_hash("token-hash").await.unwrap().2,
            Some(Timestamp(1234)),
            "{label}"
        );
        let bob = user(&store, "bob", Role::Annotator).await;
        assert!(
            matches!(
                store.delete_token(bob.id, token.id).await,
                Err(Error::NotFound)
            ),
            "{label}: not bob's"
        );
        assert_eq!(
            store
                .list_tokens(alice.id, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .len(),
            1,
            "{label}"
        );
        store.delete_token(alice.id, token.id).await.unwrap();
        assert!(
            matches!(
                store.user_by_token_hash("token-hash").await,
                Err(Error::NotFound)
            ),
            "{label}"
        );

        let later = Timestamp::now().plus_seconds(3600);
        store
            .create_session(bob.id, "session-hash", "csrf", later)
            .await
            .unwrap();
        store
            .create_session(bob.id, "old-session", "csrf", Timestamp(1))
            .await
            .unwrap();
        assert_eq!(
            store.session("session-hash").await.unwrap().user.id,
            bob.id,
            "{label}"
        );
        assert!(
            matches!(store.session("old-session").await, Err(Error::NotFound)),
            "{label}: expired"
        );
        store
            .update_user(bob.id, Role::Annotator, false)
            .await
            .unwrap();
        assert!(
            matches!(store.session("session-hash").await, Err(Error::NotFound)),
            "{label}: inactive user"
        );
        store.delete_sessions_of(bob.id).await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn projects_and_members() {
    for db in databases().await {
        let store = open_store(&db).await;
        let label = db.label;
        let manager = user(&store, "manager", Role::Manager).await;
        let annotator = user(&store, "annotator", Role::Annotator).await;
        let new = |name: &str, created_by| NewProject {
            name: name.to_string(),
            description: String::new(),
            label_config: "<View/>".to_string(),
            created_by,
        };
        let mine = store
            .create_project(&new("mine", Some(manager.id)))
            .await
            .unwrap();
        let other = store.create_project(&new("other", None)).await.unwrap();
        assert_eq!(
            store.membership(mine.id, manager.id).await.unwrap(),
            Some(ProjectRole::Manager),
            "{label}"
        );
        assert_eq!(
            store.membership(other.id, manager.id).await.unwrap(),
            None,
            "{label}"
        );
        assert_eq!(store.count_projects().await.unwrap(), 2, "{label}");

        let visible = store
            .list_projects(ProjectScope::MemberOf(manager.id), PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(
            visible.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![mine.id],
            "{label}"
        );
        let all = store
            .list_projects(ProjectScope::All, PageRequest::first(1))
            .await
            .unwrap();
        assert_eq!((all.items.len(), all.next.is_some()), (1, true), "{label}");

        let patch = ProjectPatch {
            name: Some("renamed".into()),
            ..ProjectPatch::default()
        };
        let renamed = store.update_project(mine.id, &patch).await.unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.label_config.as_str()),
            ("renamed", "<View/>"),
            "{label}"
        );
        assert!(renamed.updated_at >= mine.updated_at, "{label}");

        let member = store
            .put_member(mine.id, annotator.id, ProjectRole::Annotator)
            .await
            .unwrap();
        assert_eq!(
            (member.username.as_str(), member.role),
            ("annotator", ProjectRole::Annotator),
            "{label}"
        );
        let member = store
            .put_member(mine.id, annotator.id, ProjectRole::Reviewer)
            .await
            .unwrap();
        assert_eq!(
            member.role,
            ProjectRole::Reviewer,
            "{label}: upsert changes the role"
        );
        let members = store
            .list_members(mine.id, PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(members.items.len(), 2, "{label}");
        store.remove_member(mine.id, annotator.id).await.unwrap();
        assert!(
            matches!(
                store.remove_member(mine.id, annotator.id).await,
                Err(Error::NotFound)
            ),
            "{label}"
        );

        store.delete_project(mine.id).await.unwrap();
        assert!(
            matches!(store.project(mine.id).await, Err(Error::NotFound)),
            "{label}"
        );
        assert_eq!(
            store.membership(mine.id, manager.id).await.unwrap(),
            None,
            "{label}: members cascade"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn every_table_is_in_snapshots() {
    for db in databases().await {
        let store = open_store(&db).await;
        let mut expected: Vec<String> = snapshot_tables()
            .iter()
            .map(|name| name.to_string())
            .collect();
        expected.push("gloss_migrations".to_string());
        expected.sort();
        assert_eq!(
            store.table_names().await.unwrap(),
            expected,
            "{}: a new table must join snapshot TABLES",
            db.label
        );
        store.close().await;
    }
}

#[tokio::test]
async fn upgrades_from_the_previous_schema_keep_data() {
    for db in databases().await {
        let store = Store::open(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate_to(MIGRATION_COUNT - 1).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), MIGRATION_COUNT - 1);
        let carol = user(&store, "carol", Role::Reviewer).await;
        assert_eq!(store.pending_migrations().await.unwrap().len(), 1);
        store.migrate().await.unwrap();
        assert_eq!(
            store.schema_version().await.unwrap(),
            MIGRATION_COUNT,
            "{}",
            db.label
        );
        assert_eq!(
            store.user_by_username("carol").await.unwrap(),
            carol,
            "{}",
            db.label
        );
        store.close().await;
    }
}

/// Collects a snapshot in memory.
#[derive(Default)]
struct Collected {
    tables: Vec<(String, Vec<String>, Vec<Vec<Value>>)>,
}

impl SnapshotWriter for Collected {
    fn begin_table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()> {
        self.tables
            .push((name.to_string(), columns.to_vec(), Vec::new()));
        Ok(())
    }
    fn row(&mut self, values: &[Value]) -> std::io::Result<()> {
        self.tables.last_mut().unwrap().2.push(values.to_vec());
        Ok(())
    }
    fn end_table(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Collected {
    fn rows(&self) -> Vec<TableRows> {
        self.tables
            .iter()
            .map(|(name, columns, rows)| TableRows {
                table: SnapshotTable {
                    name: name.clone(),
                    columns: columns.clone(),
                    rows: rows.len() as u64,
                },
                rows: Box::new(rows.clone().into_iter().map(Ok)),
            })
            .collect()
    }
}

async fn seeded(db: &TestDb) -> Store {
    let store = open_store(db).await;
    let dana = user(&store, "dana", Role::Manager).await;
    let erin = user(&store, "erin", Role::Annotator).await;
    let project = NewProject {
        name: "snap \"quoted\" 'name' ünïcode".into(),
        description: "line1\nline2".into(),
        label_config: "<View><Image name=\"i\" value=\"$image\"/></View>".into(),
        created_by: Some(dana.id),
    };
    let project = store.create_project(&project).await.unwrap();
    store
        .put_member(project.id, erin.id, ProjectRole::Annotator)
        .await
        .unwrap();
    store
        .create_token(erin.id, "t", "hash-t", "gls_t")
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn snapshots_restore_on_both_backends_and_across_them() {
    let dbs = databases().await;
    for source_db in &dbs {
        let source = seeded(source_db).await;
        let mut snapshot = Collected::default();
        let (version, tables) = source.write_snapshot(&mut snapshot).await.unwrap();
        assert_eq!(version, MIGRATION_COUNT);
        assert_eq!(tables.iter().find(|t| t.name == "users").unwrap().rows, 2);
        for target_db in databases().await {
            let label = format!("{} -> {}", source_db.label, target_db.label);
            let target = open_store(&target_db).await;
            user(&target, "to-be-replaced", Role::Admin).await;
            target
                .restore_snapshot(version, snapshot.rows())
                .await
                .unwrap();
            let mut again = Collected::default();
            target.write_snapshot(&mut again).await.unwrap();
            assert_eq!(again.tables, snapshot.tables, "{label}");
            // Ids continue after the restored ones.
            let next = user(&target, "after-restore", Role::Annotator).await;
            assert!(next.id.0 > 2, "{label}");

            // A broken snapshot changes nothing.
            let mut broken = snapshot.rows();
            broken[0].table.rows += 1;
            let err = target.restore_snapshot(version, broken).await.unwrap_err();
            assert!(matches!(err, Error::BadSnapshot(_)), "{label}: {err}");
            assert!(
                target.user_by_username("after-restore").await.is_ok(),
                "{label}: rolled back"
            );
            target.close().await;
        }
        source.close().await;
    }
}
