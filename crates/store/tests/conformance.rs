//! One story of store behaviour, run on SQLite and, when configured, on a real
//! PostgreSQL: both backends must answer alike.

use gloss_store::{
    snapshot_tables, DataCondition, DataOp, Error, ImportOutcome, NewAnnotation, NewDraft,
    NewMedia, NewPrediction, NewProject, NewTask, NewUser, ProjectPatch, ProjectScope,
    SnapshotTable, SnapshotWriter, SortKey, Store, StoreOptions, TableRows, TableSort, TaskQuery,
    TextIndexProgress, MIGRATION_COUNT,
};
use gloss_test_support::{databases, index_names, open_store, TestDb};
use gloss_types::{
    ImportState, PageRequest, Project, ProjectId, ProjectRole, RejectedRow, Role, TaskStatus,
    Timestamp, User, UserId, UserStatus,
};
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
            .update_user(alice.id, Role::Manager, UserStatus::Removed)
            .await
            .unwrap();
        assert_eq!(
            (demoted.role, demoted.active),
            (Role::Manager, false),
            "{label}"
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 0, "{label}");
        store
            .update_user(alice.id, Role::Admin, UserStatus::Active)
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
            .update_user(bob.id, Role::Annotator, UserStatus::Removed)
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

/// Migration 27 (SQLite) rewrites the CHECK on `tasks.status` without an
/// IN list: it must still refuse a status outside the three, on both
/// backends, and SQLite must no longer build a temporary b-tree for it
/// when a statement sets the status.
#[tokio::test]
async fn task_status_is_checked_without_a_temporary_b_tree() {
    for db in databases().await {
        let store = open_store(&db).await;
        let label = db.label;
        let admin = user(&store, "admin", Role::Admin).await;
        let project = store
            .create_project(&NewProject {
                name: "statuses".into(),
                description: String::new(),
                label_config: "<View/>".into(),
                created_by: Some(admin.id),
            })
            .await
            .unwrap();
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        let task: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO tasks (project_id, data, created_at, updated_at) \
             VALUES ({}, '{{}}', 0, 0) RETURNING id",
            project.id.0
        ))
        .fetch_one(&mut connection)
        .await
        .unwrap();
        for status in ["in_progress", "completed", "new"] {
            sqlx::query(&format!(
                "UPDATE tasks SET status = '{status}' WHERE id = {task}"
            ))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|err| panic!("{label}: {status}: {err}"));
        }
        for status in ["done", "New", ""] {
            let err = sqlx::query(&format!(
                "UPDATE tasks SET status = '{status}' WHERE id = {task}"
            ))
            .execute(&mut connection)
            .await
            .expect_err(&format!("{label}: the status {status:?} must be refused"));
            assert!(
                err.to_string().to_lowercase().contains("check"),
                "{label}: {status:?}: {err}"
            );
        }
        if label == "sqlite" {
            let opcodes: Vec<String> = sqlx::query(&format!(
                "EXPLAIN UPDATE tasks SET status = 'new' WHERE id = {task}"
            ))
            .fetch_all(&mut connection)
            .await
            .unwrap()
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, "opcode"))
            .collect();
            assert!(
                opcodes.iter().any(|op| op == "Halt"),
                "{label}: {opcodes:?}"
            );
            assert!(
                !opcodes.iter().any(|op| op == "OpenEphemeral"),
                "{label}: a status update builds a temporary b-tree: {opcodes:?}"
            );
        }
        store.close().await;
    }
}

/// Migration 27 edits the text of `tasks` in place (SQLite): on a table
/// whose text it does not recognise it must fail, and leave the database
/// at the schema before it, rather than change anything.
#[tokio::test]
async fn the_status_check_migration_refuses_a_tasks_table_it_does_not_know() {
    let Some(db) = databases()
        .await
        .into_iter()
        .find(|db| db.label == "sqlite")
    else {
        return;
    };
    let store = Store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate_to(26).await.unwrap();
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    // The same constraint, spaced otherwise: not the text migration 3 wrote.
    for statement in [
        "PRAGMA writable_schema = ON".to_string(),
        "UPDATE sqlite_schema SET sql = replace(sql, 'status IN (', 'status IN  (') \
         WHERE type = 'table' AND name = 'tasks'"
            .to_string(),
        format!("PRAGMA schema_version = {}", version + 1),
        "PRAGMA writable_schema = OFF".to_string(),
    ] {
        sqlx::raw_sql(&statement)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    let err = store.migrate().await.unwrap_err();
    assert!(err.to_string().contains("migration 27"), "{err}");
    assert_eq!(store.schema_version().await.unwrap(), 26);
    let sql: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'tasks'")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(sql.contains("status IN  ("), "{sql}");
    store.close().await;
}

#[tokio::test]
async fn upgrades_from_the_previous_schema_keep_data() {
    for db in databases().await {
        let store = Store::open(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        // The schema before migration 23, whose dropping of shared
        // data-field indexes this test checks as well as migration 24's
        // indexes.
        let all = store.pending_migrations().await.unwrap();
        let previous = 22;
        let later = all.iter().filter(|m| m.version > previous).count();
        store.migrate_to(previous).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), previous);
        // Written in SQL with the first schema's columns, which every later
        // one keeps: today's statements may name columns the last
        // migration adds.
        sqlx::any::install_default_drivers();
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (username, password_hash, role, active, created_at) \
             VALUES ('carol', 'hash-of-carol', 'reviewer', 1, 0)",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        // An annotation by carol, which migration 25's table by annotator
        // (SQLite) takes in.
        let project: i64 = sqlx::query_scalar(
            "INSERT INTO projects (name, label_config, created_at, updated_at) \
             VALUES ('old', '<View/>', 0, 0) RETURNING id",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        let task: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO tasks (project_id, data, created_at, updated_at) \
             VALUES ({project}, '{{}}', 0, 0) RETURNING id"
        ))
        .fetch_one(&mut connection)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO annotations (task_id, project_id, completed_by, result, created_at, updated_at) \
             SELECT {task}, {project}, id, '[]', 5, 5 FROM users WHERE username = 'carol'"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        // A row in each of the queue's small tables, which migration 26
        // stores by primary key on SQLite, and the task's count by status.
        for statement in [
            format!(
                "INSERT INTO reservations (project_id, user_id, task_id, expires_at, created_at) \
                 SELECT {project}, id, {task}, 9, 1 FROM users WHERE username = 'carol'"
            ),
            format!(
                "INSERT INTO skips (task_id, user_id, project_id, skipped_at) \
                 SELECT {task}, id, {project}, 2 FROM users WHERE username = 'carol'"
            ),
            format!(
                "INSERT INTO assignments (task_id, user_id, project_id, assigned_by, assigned_at) \
                 SELECT {task}, id, {project}, id, 3 FROM users WHERE username = 'carol'"
            ),
            format!(
                "INSERT INTO task_labels (project_id, label, task_id) VALUES ({project}, 'cat', {task})"
            ),
            format!(
                "INSERT INTO task_counts (project_id, status, shard, n) \
                 VALUES ({project}, 'new', {task} % 16, 1)"
            ),
        ] {
            sqlx::query(&statement)
                .execute(&mut connection)
                .await
                .unwrap();
        }
        // A data field's index as sorting made it before migration 23: one
        // for every project's tasks, which migration 23 drops.
        let shared = match db.label {
            "sqlite" => "json_extract(data, '$.\"x\"')",
            _ => "(CAST(data AS jsonb) -> 'x')",
        };
        sqlx::query(&format!(
            "CREATE INDEX tasks_data_0123456789abcdef ON tasks (project_id, {shared}, id)"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        sqlx::Connection::close(connection).await.ok();
        assert_eq!(store.pending_migrations().await.unwrap().len(), later);
        store.migrate().await.unwrap();
        // Migration 24: one index by annotator, and the task's annotations
        // found by (task, annotator); migration 25 moves SQLite's index by
        // annotator to a table.
        let by_annotator = match db.label {
            "sqlite" => vec![],
            _ => vec!["annotations_by_annotator_time"],
        };
        assert_eq!(
            index_names(&db, "annotations_by_%").await,
            [
                by_annotator,
                vec!["annotations_by_change", "annotations_by_task_annotator"]
            ]
            .concat(),
            "{}",
            db.label
        );
        // (PostgreSQL keeps one index per key for every project.)
        let kept = match db.label {
            "sqlite" => Vec::new(),
            _ => vec!["tasks_data_0123456789abcdef".to_string()],
        };
        assert_eq!(index_names(&db, "tasks_data_%").await, kept, "{}", db.label);
        assert_eq!(
            store.schema_version().await.unwrap(),
            MIGRATION_COUNT,
            "{}",
            db.label
        );
        let carol = store.user_by_username("carol").await.unwrap();
        assert_eq!(
            (carol.role, carol.active, carol.status),
            (Role::Reviewer, true, UserStatus::Active),
            "{}",
            db.label
        );
        // Carol's annotation is found by annotator, from the table on
        // SQLite (nothing is after its mark).
        assert_eq!(
            store
                .annotations_since(ProjectId(project), carol.id, 5)
                .await
                .unwrap(),
            1,
            "{}",
            db.label
        );
        assert_eq!(
            store.index_people().await.unwrap(),
            (0, false),
            "{}",
            db.label
        );
        // The queue's small tables kept their rows through migration 26,
        // and the status trigger made again counts into the new table.
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        sqlx::query(&format!(
            "UPDATE tasks SET status = 'in_progress' WHERE id = {task}"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        let mut kept = Vec::new();
        for table in [
            "reservations",
            "skips",
            "assignments",
            "task_labels",
            "task_counts",
        ] {
            let rows: Vec<(i64,)> = sqlx::query_as(&format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE project_id = {project}"
            ))
            .fetch_all(&mut connection)
            .await
            .unwrap();
            kept.push(rows[0].0);
        }
        // task_counts: the task left 'new' (its row now 0) for 'in_progress'.
        assert_eq!(kept, [1, 1, 1, 1, 2], "{}", db.label);
        let counts: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT status, CAST(n AS BIGINT) FROM task_counts WHERE project_id = {project} ORDER BY status"
        ))
        .fetch_all(&mut connection)
        .await
        .unwrap();
        assert_eq!(
            counts,
            [("in_progress".to_string(), 1), ("new".to_string(), 0)],
            "{}",
            db.label
        );
        if db.label == "sqlite" {
            let by_key: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND sql LIKE '%WITHOUT ROWID' ORDER BY name",
            )
            .fetch_all(&mut connection)
            .await
            .unwrap();
            let by_key: Vec<String> = by_key.into_iter().map(|(name,)| name).collect();
            for table in [
                "assignments",
                "reservations",
                "skips",
                "task_counts",
                "task_labels",
            ] {
                assert!(
                    by_key.iter().any(|name| name == table),
                    "{table}: {by_key:?}"
                );
            }
        }
        sqlx::Connection::close(connection).await.ok();
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
    let mut import = store.begin_task_import(project.id, None).await.unwrap();
    import
        .insert(&sample_tasks(3, Some(erin.id)))
        .await
        .unwrap();
    import
        .link_media(&sample_media("ab"), "a.png")
        .await
        .unwrap();
    import.commit().await.unwrap();
    store
}

fn sample_media(prefix: &str) -> NewMedia {
    NewMedia {
        key: format!("{prefix}{}", "0".repeat(62)),
        content_type: "image/png".into(),
        size: 1234,
        width: Some(640),
        height: Some(480),
    }
}

/// `n` tasks; every other one has an annotation (by `annotator`), a prediction and a draft.
fn sample_tasks(n: usize, annotator: Option<UserId>) -> Vec<NewTask> {
    (0..n)
        .map(|idx| {
            let annotated = idx % 2 == 0;
            NewTask {
                data: format!(r#"{{"image":"/img/{idx}.png","text":"ünï \"{idx}\""}}"#),
                meta: annotated.then(|| r#"{"source":"test"}"#.to_string()),
                annotations: if annotated {
                    vec![NewAnnotation {
                        completed_by: annotator,
                        result: r#"[{"from_name":"c","to_name":"i","type":"choices","value":{"choices":["a"]}}]"#.into(),
                        lead_time: Some(12.5 + idx as f64),
                        was_cancelled: false,
                        ground_truth: idx == 0,
                        extra: Some(r#"{"unique_id":"u"}"#.into()),
                        created_at: 1_700_000_000_000,
                        updated_at: 1_700_000_000_001,
                    }]
                } else {
                    Vec::new()
                },
                predictions: if annotated {
                    vec![NewPrediction {
                        model_version: "m1".into(),
                        score: Some(0.75),
                        result: "[]".into(),
                        extra: None,
                        created_at: 1_700_000_000_002,
                    }]
                } else {
                    Vec::new()
                },
                drafts: if annotated {
                    vec![NewDraft {
                        user_id: annotator,
                        result: "[]".into(),
                        lead_time: None,
                        extra: None,
                        created_at: 1,
                        updated_at: 2,
                    }]
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

#[tokio::test]
async fn task_imports_are_all_or_nothing_and_read_back_in_pages() {
    for db in databases().await {
        let store = open_store(&db).await;
        let label = db.label;
        let owner = user(&store, "owner", Role::Manager).await;
        let project = new_project(&store, "p", "<View/>", &owner).await;

        // Dropped without commit: nothing is written, and no id is burnt
        // where it would show (ids are never reused after a commit).
        let mut import = store.begin_task_import(project.id, None).await.unwrap();
        import.insert(&sample_tasks(10, None)).await.unwrap();
        drop(import);
        assert!(
            store
                .list_tasks(project.id, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty(),
            "{label}"
        );

        let job = store
            .create_import(project.id, Some(owner.id))
            .await
            .unwrap();
        assert_eq!(job.state, ImportState::Running, "{label}");
        let mut import = store
            .begin_task_import(project.id, Some(job.id.0))
            .await
            .unwrap();
        import
            .insert(&sample_tasks(1201, Some(owner.id)))
            .await
            .unwrap();
        import
            .link_media(&sample_media("cd"), "cat.png")
            .await
            .unwrap();
        let counts = import.commit().await.unwrap();
        assert_eq!(
            (
                counts.tasks,
                counts.annotations,
                counts.predictions,
                counts.drafts
            ),
            (1201, 601, 601, 601),
            "{label}"
        );
        let done = store
            .finish_import(
                job.id,
                1201,
                &ImportOutcome {
                    tasks: 1201,
                    annotations: 601,
                    predictions: 601,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (done.state, done.tasks_created),
            (ImportState::Completed, 1201),
            "{label}"
        );

        let counts = store.task_counts(project.id).await.unwrap();
        assert_eq!(
            counts,
            vec![
                (TaskStatus::New, 600),
                (TaskStatus::InProgress, 0),
                (TaskStatus::Completed, 601)
            ],
            "{label}"
        );

        // A consistent page-by-page read: a task imported meanwhile is not seen.
        let mut reader = store.begin_task_read().await.unwrap();
        let first = reader.page(project.id, 0, 500, &[]).await.unwrap();
        let mut late = store.begin_task_import(project.id, None).await.unwrap();
        late.insert(&sample_tasks(1, None)).await.unwrap();
        late.commit().await.unwrap();
        let mut seen = first.tasks.len();
        let mut after = first.tasks.last().unwrap().id.0;
        assert_eq!(first.annotations.len(), 250, "{label}");
        assert_eq!(
            first.annotations[0].username.as_deref(),
            Some("owner"),
            "{label}"
        );
        assert_eq!(first.annotations[0].lead_time, Some(12.5), "{label}");
        assert!(first.annotations[0].ground_truth, "{label}");
        assert_eq!(first.predictions[0].score, Some(0.75), "{label}");
        loop {
            let page = reader.page(project.id, after, 500, &[]).await.unwrap();
            let Some(last) = page.tasks.last() else { break };
            after = last.id.0;
            seen += page.tasks.len();
        }
        reader.finish().await.unwrap();
        assert_eq!(seen, 1201, "{label}");
        let mut reader = store.begin_task_read().await.unwrap();
        let completed = reader
            .page(project.id, 0, 5000, &[TaskStatus::Completed])
            .await
            .unwrap();
        reader.finish().await.unwrap();
        assert_eq!(completed.tasks.len(), 602, "{label}");
        assert!(
            completed
                .tasks
                .iter()
                .all(|t| t.status == TaskStatus::Completed),
            "{label}"
        );

        let task = store
            .task(completed.tasks[0].id)
            .await
            .unwrap()
            .to_task()
            .unwrap();
        assert_eq!(task.data["text"], "ünï \"0\"", "{label}");
        assert_eq!(task.meta["source"], "test", "{label}");
        let annotations = store.task_annotations(task.id).await.unwrap();
        assert_eq!(
            annotations[0].to_annotation().unwrap().result[0]["type"],
            "choices",
            "{label}"
        );

        // Media is visible to members of a project that uses it, and only to them.
        let key = sample_media("cd").key;
        assert_eq!(
            store
                .visible_media(&key, Some(owner.id))
                .await
                .unwrap()
                .unwrap()
                .file_name,
            "cat.png",
            "{label}"
        );
        let stranger = user(&store, "stranger", Role::Annotator).await;
        assert!(
            store
                .visible_media(&key, Some(stranger.id))
                .await
                .unwrap()
                .is_none(),
            "{label}"
        );
        assert!(
            store.visible_media(&key, None).await.unwrap().is_some(),
            "{label}"
        );
        let found = store
            .project_media(project.id, &[key.clone(), "ff".repeat(32)])
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{label}");
        assert_eq!(found[0].media.width, Some(640), "{label}");

        // Failed imports keep their report; interrupted ones are marked failed.
        let job = store.create_import(project.id, None).await.unwrap();
        let rejected = vec![RejectedRow {
            file: "a.json".into(),
            row: 3,
            field: "data".into(),
            reason: "not an object".into(),
        }];
        let failed = store
            .finish_import(
                job.id,
                5,
                &ImportOutcome {
                    rejected: rejected.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (failed.state, failed.rejected),
            (ImportState::Failed, rejected),
            "{label}"
        );
        let job = store.create_import(project.id, None).await.unwrap();
        assert_eq!(
            store.fail_interrupted_imports().await.unwrap(),
            1,
            "{label}"
        );
        assert_eq!(
            store.import(job.id).await.unwrap().state,
            ImportState::Failed,
            "{label}"
        );
        assert!(
            matches!(
                store.begin_task_import(ProjectId(999_999), None).await,
                Err(Error::NotFound)
            ),
            "{label}"
        );
        store.close().await;
    }
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
            // The text index (SQLite) is left out of snapshots: it starts
            // again from the restored tasks, also over a filled one.
            if target_db.label == "sqlite" {
                for _ in 0..2 {
                    assert_eq!(
                        target.index_task_text(100).await.unwrap().added,
                        3,
                        "{label}"
                    );
                    target
                        .restore_snapshot(version, snapshot.rows())
                        .await
                        .unwrap();
                }
                user(&target, "after-restore", Role::Annotator).await;
            }

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

#[tokio::test]
async fn model_endpoints_keep_their_key_until_told() {
    use gloss_store::ModelEndpointInput;
    for db in databases().await {
        let store = open_store(&db).await;
        let label = db.label;
        let manager = user(&store, "manager", Role::Manager).await;
        let project = new_project(&store, "red team", "<View/>", &manager).await;
        assert_eq!(
            store.model_endpoint(project.id).await.unwrap(),
            None,
            "{label}"
        );
        let input =
            |api_key: Option<Option<String>>, temperature: Option<f64>| ModelEndpointInput {
                url: "https://models.example/v1".into(),
                model: "tiny".into(),
                api_key,
                system_prompt: "Be careful ✓".into(),
                temperature,
                max_tokens: Some(256),
                updated_by: Some(manager.id),
            };
        let set = store
            .set_model_endpoint(project.id, &input(Some(Some("sk-1".into())), Some(0.7)))
            .await
            .unwrap();
        let read = store.model_endpoint(project.id).await.unwrap().unwrap();
        assert_eq!(read, set, "{label}");
        assert_eq!(
            (
                read.api_key.as_deref(),
                read.temperature,
                read.max_tokens,
                read.system_prompt.as_str()
            ),
            (Some("sk-1"), Some(0.7), Some(256), "Be careful ✓"),
            "{label}"
        );
        assert!(!format!("{read:?}").contains("sk-1"), "{label}");

        // No key given keeps the stored one; a NULL temperature stays NULL.
        store
            .set_model_endpoint(project.id, &input(None, None))
            .await
            .unwrap();
        let read = store.model_endpoint(project.id).await.unwrap().unwrap();
        assert_eq!(
            (read.api_key.as_deref(), read.temperature),
            (Some("sk-1"), None),
            "{label}"
        );
        store
            .set_model_endpoint(project.id, &input(Some(None), Some(1.0)))
            .await
            .unwrap();
        let read = store.model_endpoint(project.id).await.unwrap().unwrap();
        assert_eq!(
            (read.api_key, read.temperature),
            (None, Some(1.0)),
            "{label}"
        );

        assert!(matches!(
            store
                .set_model_endpoint(ProjectId(project.id.0 + 100), &input(None, None))
                .await,
            Err(Error::NotFound)
        ));
        assert!(
            store.delete_model_endpoint(project.id).await.unwrap(),
            "{label}"
        );
        assert!(
            !store.delete_model_endpoint(project.id).await.unwrap(),
            "{label}"
        );

        // The endpoint goes with its project.
        store
            .set_model_endpoint(project.id, &input(Some(Some("sk-2".into())), None))
            .await
            .unwrap();
        store.delete_project(project.id).await.unwrap();
        assert_eq!(
            store.model_endpoint(project.id).await.unwrap(),
            None,
            "{label}"
        );
    }
}

/// A new project owned by `owner`, without a description.
async fn new_project(store: &Store, name: &str, label_config: &str, owner: &User) -> Project {
    store
        .create_project(&NewProject {
            name: name.into(),
            description: String::new(),
            label_config: label_config.into(),
            created_by: Some(owner.id),
        })
        .await
        .unwrap()
}

/// The ids of the tasks of `project` whose `key` contains `text`, by id.
async fn containing(store: &Store, project: ProjectId, key: &str, text: &str) -> Vec<i64> {
    let query = TaskQuery {
        data: vec![DataCondition {
            key: key.to_string(),
            op: DataOp::Contains,
            value: Value::String(text.to_string()),
        }],
        ..TaskQuery::default()
    };
    let sort = TableSort {
        key: SortKey::Id,
        descending: false,
    };
    let page = store
        .task_table(project, &query, &sort, None, 100)
        .await
        .unwrap();
    page.rows.iter().map(|row| row.task.id.0).collect()
}

#[tokio::test]
async fn the_text_index_follows_tasks_in_and_out() {
    for db in databases().await {
        let store = seeded(&db).await;
        let project = store
            .list_projects(ProjectScope::All, PageRequest::first(10))
            .await
            .unwrap()
            .items[0]
            .id;
        let ids = containing(&store, project, "image", "/IMG/").await;
        assert_eq!(ids.len(), 3, "{}", db.label);
        let second = ids[1];
        if db.label != "sqlite" {
            // PostgreSQL has no text index of Gloss's own, but its trigram
            // index of the stored text (pg_trgm), made once; the answers
            // are the same without it and with it.
            assert_eq!(store.text_index_progress().await.unwrap(), None);
            assert_eq!(store.index_task_text(10).await.unwrap().added, 0);
            let owner = user(&store, "owner", Role::Manager).await;
            let nested = new_project(
                &store,
                "nested",
                "<View><Image name=\"i\" value=\"$image\"/></View>",
                &owner,
            )
            .await;
            let mut tasks = sample_tasks(2, None);
            tasks[1].data =
                r#"{"image":"/img/k.png","nums":[1,2],"obj":{"a":"Bicycle"},"n":1e2}"#.into();
            import_tasks(&store, nested.id, &tasks).await;
            let searches = || async {
                let mut found = Vec::new();
                for (key, text) in [
                    ("image", "/IMG/"),
                    ("image", "img/1.PNG"),
                    ("image", "zqx"),
                    ("text", "ünï"),
                    ("text", "\"1\""),
                ] {
                    found.push(containing(&store, project, key, text).await);
                }
                // A nested value and a number are searched as stored (not
                // as PostgreSQL's `jsonb` would write them: `[1, 2]`, 100).
                for (key, text) in [
                    ("nums", "1,2"),
                    ("nums", "1, 2"),
                    ("obj", "\"a\":\"bicycle"),
                    ("obj", "bicycle"),
                    ("n", "1e2"),
                    ("n", "100"),
                ] {
                    found.push(containing(&store, nested.id, key, text).await);
                }
                found
            };
            let nested_ids = containing(&store, nested.id, "image", "png").await;
            let expected = vec![
                ids.clone(),
                vec![second],
                vec![],
                ids.clone(),
                vec![second],
                vec![nested_ids[1]],
                vec![],
                vec![nested_ids[1]],
                vec![nested_ids[1]],
                vec![nested_ids[1]],
                vec![],
            ];
            assert_eq!(searches().await, expected);
            assert!(store.prepare_postgres_text_index().await.unwrap());
            // Made once: the second call finds it.
            assert!(store.prepare_postgres_text_index().await.unwrap());
            assert_eq!(searches().await, expected);
            store.close().await;
            continue;
        }
        let progress = |indexed_to| TextIndexProgress {
            indexed_to,
            last_task: ids[2],
        };
        assert_eq!(
            store.text_index_progress().await.unwrap(),
            Some(progress(0))
        );
        // In id order, a batch at a time; searches give the same answers
        // with a part of the tasks in the index, and all of them.
        for (batch, added, indexed_to) in [(2, 2, second), (2, 1, ids[2]), (2, 0, ids[2])] {
            assert_eq!(store.index_task_text(batch).await.unwrap().added, added);
            assert_eq!(
                store.text_index_progress().await.unwrap(),
                Some(progress(indexed_to))
            );
            assert_eq!(containing(&store, project, "image", "/IMG/").await, ids);
            assert_eq!(
                containing(&store, project, "image", "img/1.PNG").await,
                vec![second]
            );
            // One or two characters: the index's terms they start.
            assert_eq!(
                containing(&store, project, "image", "1.").await,
                vec![second]
            );
            assert_eq!(containing(&store, project, "image", "G/").await, ids);
            assert!(containing(&store, project, "image", "zq").await.is_empty());
            assert_eq!(containing(&store, project, "image", "/").await, ids);
            // In the stored text of every task, but not in this field.
            assert!(containing(&store, project, "image", "ünï").await.is_empty());
            assert_eq!(containing(&store, project, "text", "ünï").await, ids);
            // Quotes, which stored JSON escapes: looked up as stored.
            assert_eq!(
                containing(&store, project, "text", "\"1\"").await,
                vec![second]
            );
            assert_eq!(containing(&store, project, "text", "ï \"").await, ids);
            assert!(containing(&store, project, "image", "\"1\"")
                .await
                .is_empty());
            assert!(containing(&store, project, "text", "\\\"1")
                .await
                .is_empty());
        }
        // Deleted tasks leave the index (a trigger, also for a project's
        // tasks deleted with it); new tasks come after the indexed ones.
        let indexed = |text: &'static str| {
            let url = db.url.clone();
            async move {
                let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                    .await
                    .unwrap();
                let row =
                    sqlx::query("SELECT COUNT(*) AS n FROM tasks_text WHERE tasks_text MATCH $1")
                        .bind(text)
                        .fetch_one(&mut connection)
                        .await
                        .unwrap();
                sqlx::Connection::close(connection).await.ok();
                sqlx::Row::get::<i64, _>(&row, "n")
            }
        };
        sqlx::any::install_default_drivers();
        assert_eq!(indexed("\"img\"").await, 3);
        store.delete_project(project).await.unwrap();
        assert_eq!(indexed("\"img\"").await, 0);
        let owner = user(&store, "owner", Role::Manager).await;
        let again = new_project(
            &store,
            "again",
            "<View><Image name=\"i\" value=\"$image\"/></View>",
            &owner,
        )
        .await;
        let mut tasks = sample_tasks(3, None);
        // A nested value: its JSON text holds quotes and backslashes of its own.
        // Its `note` key, nested, is not the top-level field `note`.
        tasks[2].data =
            r#"{"image":"/img/n.png","nested":{"say":"hi \"there\"","note":{"x":1}}}"#.into();
        // Quotes and a line break in a string value: stored escaped.
        tasks[0].data = r#"{"image":"/img/m.png","note":"x\ny \"q\""}"#.into();
        // Characters without case, looked up by the terms they start
        // (SQLite), and with case, read from each task.
        // A nested array, in a task without a nested object.
        tasks[1].data =
            r#"{"image":"/img/k.png","place":"東京駅, Zürich","list":["a\"b",1]}"#.into();
        import_tasks(&store, again.id, &tasks).await;
        let new_ids = containing(&store, again.id, "image", "png").await;
        assert_eq!(new_ids.len(), 3);
        assert!(new_ids[0] > ids[2]);
        // Texts with characters that stored JSON escapes, of three
        // characters or more and of one or two, in either form.
        let escaped = || async {
            let mut found = Vec::new();
            for (field, text) in [
                ("nested", "\"say\""),
                ("nested", "hi \\\""),
                ("nested", "\"s"),
                ("nested", "\\\""),
                ("nested", "\""),
                ("note", "\n"),
                ("note", "q\""),
                ("note", "\""),
                ("note", "\\n"),
                ("note", "\"s"),
                ("list", "\""),
                ("list", "a\\\"b"),
                ("list", "\"a"),
            ] {
                found.push(containing(&store, again.id, field, text).await);
            }
            found
        };
        let nested = vec![new_ids[2]];
        let note = vec![new_ids[0]];
        let found = vec![
            nested.clone(),
            nested.clone(),
            nested.clone(),
            nested.clone(),
            nested,
            note.clone(),
            note.clone(),
            note,
            vec![],
            vec![],
            vec![new_ids[1]],
            vec![new_ids[1]],
            vec![new_ids[1]],
        ];
        assert_eq!(escaped().await, found);
        let short = || async {
            let mut found = Vec::new();
            for text in ["京", "京駅", "駅,", "駅X", "ü", "Ü", "zü", "é"] {
                found.push(containing(&store, again.id, "place", text).await);
            }
            found
        };
        let place = vec![new_ids[1]];
        let short_found = vec![
            place.clone(),
            place.clone(),
            place.clone(),
            vec![],
            place.clone(),
            vec![],
            place.clone(),
            vec![],
        ];
        assert_eq!(short().await, short_found);
        let batch = store.index_task_text(10).await.unwrap();
        assert_eq!(batch.added, 3);
        let keys: Vec<(ProjectId, &str)> = batch
            .data_keys
            .iter()
            .map(|(p, k)| (*p, k.as_str()))
            .collect();
        for key in ["image", "note", "place"] {
            assert!(keys.contains(&(again.id, key)), "{key} in {keys:?}");
        }
        assert_eq!(indexed("\"img\"").await, 3);
        assert_eq!(containing(&store, again.id, "image", "png").await, new_ids);
        assert_eq!(escaped().await, found);
        assert_eq!(short().await, short_found);
        store.close().await;
    }
}

/// The ids of the tasks of `project` matching `query`, read in pages of
/// `limit` in id order (`descending`: from the last).
async fn ids_in_pages(
    store: &Store,
    project: ProjectId,
    query: &TaskQuery,
    descending: bool,
    limit: u32,
) -> Vec<i64> {
    let sort = TableSort {
        key: SortKey::Id,
        descending,
    };
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .task_table(project, query, &sort, cursor.as_ref(), limit)
            .await
            .unwrap();
        ids.extend(page.rows.iter().map(|row| row.task.id.0));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn a_time_window_is_read_in_id_order_both_ways() {
    for db in databases().await {
        let store = seeded(&db).await;
        let owner = user(&store, "owner", Role::Manager).await;
        let project = new_project(
            &store,
            "windows",
            "<View><Image name=\"i\" value=\"$image\"/></View>",
            &owner,
        )
        .await;
        // Three imports a few milliseconds apart: three creation times.
        for _ in 0..3 {
            import_tasks(&store, project.id, &sample_tasks(3, None)).await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let all = TaskQuery::default();
        let sort = TableSort {
            key: SortKey::Id,
            descending: false,
        };
        let rows = store
            .task_table(project.id, &all, &sort, None, 100)
            .await
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 9, "{}", db.label);
        let ids: Vec<i64> = rows.iter().map(|row| row.task.id.0).collect();
        for updated in [false, true] {
            let times: Vec<i64> = rows
                .iter()
                .map(|row| {
                    if updated {
                        row.task.updated_at
                    } else {
                        row.task.created_at
                    }
                })
                .collect();
            assert!(times[2] < times[3] && times[5] < times[6], "{times:?}");
            let window = |after: Option<i64>, before: Option<i64>| {
                let mut query = TaskQuery::default();
                if updated {
                    (query.updated_after, query.updated_before) = (after, before);
                } else {
                    (query.created_after, query.created_before) = (after, before);
                }
                query
            };
            let reversed = |ids: &[i64]| ids.iter().rev().copied().collect::<Vec<i64>>();
            let cases = [
                (
                    window(Some(times[3]), Some(times[5])),
                    false,
                    ids[3..6].to_vec(),
                ),
                (
                    window(Some(times[3]), Some(times[5])),
                    true,
                    reversed(&ids[3..6]),
                ),
                (window(Some(times[3]), None), false, ids[3..].to_vec()),
                (window(None, Some(times[5])), true, reversed(&ids[..6])),
                (window(Some(times[8] + 1), None), false, Vec::new()),
            ];
            for limit in [1, 2, 50] {
                for (query, descending, expected) in &cases {
                    assert_eq!(
                        &ids_in_pages(&store, project.id, query, *descending, limit).await,
                        expected,
                        "{}, updated {updated}, pages of {limit}, {query:?}",
                        db.label
                    );
                }
            }
        }
        store.close().await;
    }
}

/// A key that only tasks in the middle of an import have is indexed too:
/// the text index's worker finds the keys of every task it adds (SQLite),
/// where the sample of a project's first and last tasks misses it.
#[tokio::test]
async fn the_text_index_finds_the_keys_of_every_task_for_their_indexes() {
    for db in databases().await {
        let store = open_store(&db).await;
        let owner = user(&store, "owner", Role::Manager).await;
        let project = new_project(
            &store,
            "middle keys",
            "<View><Text name=\"t\" value=\"$text\"/></View>",
            &owner,
        )
        .await;
        let long = "x".repeat(201);
        let tasks: Vec<NewTask> = (0..250)
            .map(|i| {
                let mut data = serde_json::json!({"text": format!("t{i}")});
                match i {
                    120 => data["camera"] = serde_json::json!("C7"),
                    121 => data["meta"] = serde_json::json!({"a": 1}),
                    // Short in one task, too long in another: not indexed.
                    122 => data["notes"] = serde_json::json!("short"),
                    123 => data["notes"] = serde_json::json!(long.clone()),
                    124 => data["odd key"] = serde_json::json!(1),
                    125 => data["speed"] = serde_json::json!(2.5),
                    126 => data["ok"] = serde_json::json!(false),
                    _ => {}
                }
                NewTask {
                    data: data.to_string(),
                    ..NewTask::default()
                }
            })
            .collect();
        import_tasks(&store, project.id, &tasks).await;
        // The first and last 100 tasks have `text` alone.
        assert_eq!(
            store.prepare_data_indexes(project.id).await.unwrap(),
            ["text"],
            "{}",
            db.label
        );
        if db.label != "sqlite" {
            // PostgreSQL has no text index of Gloss's own.
            let batch = store.index_task_text(1000).await.unwrap();
            assert_eq!(batch, gloss_store::TextIndexBatch::default());
            store.close().await;
            continue;
        }
        let batch = store.index_task_text(1000).await.unwrap();
        assert_eq!(batch.added, 250);
        let found: Vec<&str> = batch
            .data_keys
            .iter()
            .map(|(of, key)| {
                assert_eq!(*of, project.id);
                key.as_str()
            })
            .collect();
        assert_eq!(found, ["text", "camera", "odd key", "speed", "ok"]);
        let keys: Vec<String> = found.iter().map(|key| key.to_string()).collect();
        let done = store
            .prepare_data_key_indexes(project.id, &keys)
            .await
            .unwrap();
        assert_eq!(done.made, ["camera", "speed", "ok"]);
        assert!(!done.full);
        let pattern = format!("tasks\\_data\\_%\\_p{}", project.id.0);
        assert_eq!(index_names(&db, &pattern).await.len(), 4);
        // At most 12 keys of a project are indexed ahead, counting those
        // it has.
        let many: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        let done = store
            .prepare_data_key_indexes(project.id, &many)
            .await
            .unwrap();
        assert_eq!(done.made, many[..8]);
        assert!(done.full);
        assert_eq!(index_names(&db, &pattern).await.len(), 12);
        // A filter on the key in the middle reads its index.
        let query = TaskQuery {
            data: vec![DataCondition {
                key: "camera".to_string(),
                op: DataOp::Eq,
                value: serde_json::json!("C7"),
            }],
            ..TaskQuery::default()
        };
        let ids = ids_in_pages(&store, project.id, &query, false, 50).await;
        assert_eq!(ids.len(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn data_fields_are_indexed_per_project_ahead_of_sorting() {
    for db in databases().await {
        let store = open_store(&db).await;
        let owner = user(&store, "owner", Role::Manager).await;
        let mut projects = Vec::new();
        for name in ["first", "second"] {
            let project = new_project(
                &store,
                name,
                "<View><Text name=\"t\" value=\"$text\"/></View>",
                &owner,
            )
            .await;
            let long = "x".repeat(201);
            let tasks: Vec<NewTask> = (0..5)
                .map(|i| NewTask {
                    // Scalars are indexed; objects, arrays, long texts
                    // (in any task sampled) and keys that are not plain
                    // names are not.
                    data: serde_json::json!({
                        "text": format!("t{i}"), "n": 5 - i, "ok": i % 2 == 0,
                        "meta": {"a": 1}, "tags": ["x"], "odd key": 1,
                        "notes": if i == 3 { long.clone() } else { "short".to_string() },
                    })
                    .to_string(),
                    ..NewTask::default()
                })
                .collect();
            import_tasks(&store, project.id, &tasks).await;
            projects.push(project.id);
        }
        let mut made = store.prepare_data_indexes(projects[0]).await.unwrap();
        made.sort();
        assert_eq!(made, ["n", "ok", "text"], "{}", db.label);
        // Made once.
        assert!(store
            .prepare_data_indexes(projects[0])
            .await
            .unwrap()
            .is_empty());
        // On SQLite each project has its own; PostgreSQL has one per key.
        let sqlite = db.label == "sqlite";
        let (first, second) = if sqlite {
            (
                format!("tasks\\_data\\_%\\_p{}", projects[0].0),
                format!("tasks\\_data\\_%\\_p{}", projects[1].0),
            )
        } else {
            ("tasks\\_data\\_%".to_string(), "no such index".to_string())
        };
        assert_eq!(index_names(&db, &first).await.len(), 3, "{}", db.label);
        assert!(index_names(&db, &second).await.is_empty());
        // Filters read them for equal values, ranges of numbers and NULLs
        // (tasks in import order: n is 5, 4, 3, 2, 1).
        for (conditions, expected) in [
            (vec![("n", DataOp::Gt, serde_json::json!(3))], vec![0, 1]),
            (
                vec![
                    ("n", DataOp::Gte, serde_json::json!(2)),
                    ("n", DataOp::Lt, serde_json::json!(4)),
                ],
                vec![2, 3],
            ),
            (vec![("n", DataOp::Lte, serde_json::json!(1))], vec![4]),
            (vec![("n", DataOp::Gt, serde_json::json!(9))], vec![]),
            (vec![("n", DataOp::Eq, serde_json::json!(4))], vec![1]),
            (
                vec![("ok", DataOp::Eq, serde_json::json!(true))],
                vec![0, 2, 4],
            ),
            (vec![("text", DataOp::Eq, Value::Null)], vec![]),
            (vec![("text", DataOp::Gt, serde_json::json!(0))], vec![]),
        ] {
            let query = TaskQuery {
                data: conditions
                    .iter()
                    .map(|(key, op, value)| DataCondition {
                        key: key.to_string(),
                        op: *op,
                        value: value.clone(),
                    })
                    .collect(),
                ..TaskQuery::default()
            };
            let all = store
                .task_table(
                    projects[0],
                    &TaskQuery::default(),
                    &TableSort {
                        key: SortKey::Id,
                        descending: false,
                    },
                    None,
                    10,
                )
                .await
                .unwrap();
            let position = |id: i64| all.rows.iter().position(|row| row.task.id.0 == id).unwrap();
            for key in [SortKey::Id, SortKey::Data("n".into())] {
                let sort = TableSort {
                    key,
                    descending: false,
                };
                let page = store
                    .task_table(projects[0], &query, &sort, None, 10)
                    .await
                    .unwrap();
                let mut found: Vec<usize> = page
                    .rows
                    .iter()
                    .map(|row| position(row.task.id.0))
                    .collect();
                found.sort();
                assert_eq!(found, expected, "{}: {conditions:?}", db.label);
            }
            let count = store.count_task_table(projects[0], &query).await.unwrap();
            assert_eq!(count, expected.len() as i64, "{}: {conditions:?}", db.label);
        }
        // A filter that seeks in a key not indexed ahead makes its index,
        // for a page and for a count.
        let seeking = |key: &str, value: Value| TaskQuery {
            data: vec![DataCondition {
                key: key.to_string(),
                op: DataOp::Eq,
                value,
            }],
            ..TaskQuery::default()
        };
        let by_id = TableSort {
            key: SortKey::Id,
            descending: false,
        };
        let page = store
            .task_table(
                projects[0],
                &seeking("notes", "short".into()),
                &by_id,
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(page.rows.len(), 4, "{}", db.label);
        assert_eq!(index_names(&db, &first).await.len(), 4, "{}", db.label);
        let count = store
            .count_task_table(projects[0], &seeking("absent", Value::Null))
            .await
            .unwrap();
        assert_eq!(count, 5, "{}", db.label);
        assert_eq!(index_names(&db, &first).await.len(), 5, "{}", db.label);
        // Sorting reads them (and makes the index of a key not made ahead).
        for (key, expected) in [("n", [5, 4, 3, 2, 1]), ("notes", [1, 2, 3, 5, 4])] {
            let sort = TableSort {
                key: SortKey::Data(key.into()),
                descending: false,
            };
            let page = store
                .task_table(projects[0], &TaskQuery::default(), &sort, None, 10)
                .await
                .unwrap();
            let order: Vec<i64> = page
                .rows
                .iter()
                .map(|row| row.task.id.0 - page.rows.iter().map(|r| r.task.id.0).min().unwrap() + 1)
                .collect();
            assert_eq!(order, expected, "{}: {key}", db.label);
        }
        assert_eq!(index_names(&db, &first).await.len(), 5, "{}", db.label);
        // A deleted project's indexes go with it (on SQLite).
        store.delete_project(projects[0]).await.unwrap();
        let left = if sqlite { 0 } else { 5 };
        assert_eq!(index_names(&db, &first).await.len(), left, "{}", db.label);
        let made = if sqlite { 3 } else { 0 };
        assert_eq!(
            store.prepare_data_indexes(projects[1]).await.unwrap().len(),
            made,
            "{}",
            db.label
        );
        store.close().await;
    }
}

/// A project (with an owner made for it) holding one task for each of
/// `data` (task data as JSON), imported.
/// Imports `tasks` into `project` in one import.
async fn import_tasks(store: &Store, project: ProjectId, tasks: &[NewTask]) {
    let mut import = store.begin_task_import(project, None).await.unwrap();
    import.insert(tasks).await.unwrap();
    import.commit().await.unwrap();
}

async fn project_with_tasks(store: &Store, name: &str, data: &[&str]) -> ProjectId {
    let owner = user(store, &format!("owner of {name}"), Role::Manager).await;
    let project = new_project(
        store,
        name,
        "<View><Text name=\"t\" value=\"$text\"/></View>",
        &owner,
    )
    .await;
    let tasks: Vec<NewTask> = data
        .iter()
        .map(|data| NewTask {
            data: data.to_string(),
            ..NewTask::default()
        })
        .collect();
    import_tasks(store, project.id, &tasks).await;
    project.id
}

#[tokio::test]
async fn a_filter_walks_when_its_field_cannot_be_indexed() {
    for db in databases().await {
        let store = open_store(&db).await;
        // 10 kB of letters that do not compress: over PostgreSQL's limit
        // for an index entry (about 2.7 kB).
        let mut seed: u64 = 7;
        let long: String = (0..10_000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from(b'a' + (seed >> 59) as u8 % 26)
            })
            .collect();
        let short = serde_json::json!({ "body": "short" }).to_string();
        let longer = serde_json::json!({ "body": long }).to_string();
        let project = project_with_tasks(&store, "long", &[&short, &longer, &short]).await;
        let query = TaskQuery {
            data: vec![DataCondition {
                key: "body".to_string(),
                op: DataOp::Eq,
                value: Value::String(long.clone()),
            }],
            ..TaskQuery::default()
        };
        let sort = TableSort {
            key: SortKey::Id,
            descending: false,
        };
        // Twice: the second page does not try the build again (it would
        // fail the same way), and both answer.
        for _ in 0..2 {
            let page = store
                .task_table(project, &query, &sort, None, 10)
                .await
                .unwrap();
            assert_eq!(page.rows.len(), 1, "{}", db.label);
            assert_eq!(store.count_task_table(project, &query).await.unwrap(), 1);
        }
        // SQLite has no such limit.
        let indexed = if db.label == "sqlite" { 1 } else { 0 };
        assert_eq!(
            index_names(&db, "tasks\\_data\\_%").await.len(),
            indexed,
            "{}",
            db.label
        );
        store.close().await;
    }
}

#[tokio::test]
async fn contains_reads_values_as_stored_on_both_databases() {
    for db in databases().await {
        let store = open_store(&db).await;
        let project = project_with_tasks(
            &store,
            "values",
            &[
                r#"{"v":1e20}"#,
                r#"{"v":3.141592653589793}"#,
                r#"{"v":true}"#,
                r#"{"v":null}"#,
                r#"{"v":"Null and true"}"#,
                r#"{"v":[1,2.5]}"#,
                r#"{"v":"x\ny \"q\""}"#,
                r#"{"v":{"say":"hi \"there\""}}"#,
            ],
        )
        .await;
        let ids = containing(&store, project, "v", "").await;
        // Every value but JSON's null holds the empty text.
        assert_eq!(ids.len(), 7, "{}", db.label);
        let task = |i: usize| {
            let all = [ids[0], ids[1], ids[2], 0, ids[3], ids[4], ids[5], ids[6]];
            all[i]
        };
        for (text, expected) in [
            ("1e20", vec![task(0)]),
            ("1.0e+20", vec![]),
            ("793", vec![task(1)]),
            ("TRUE", vec![task(2), task(4)]),
            ("null", vec![task(4)]),
            ("2.5]", vec![task(5)]),
            // Characters that stored JSON escapes: a string's value holds
            // them as they are, a nested value's JSON text as escaped.
            ("\n", vec![task(6)]),
            ("y \"Q", vec![task(6)]),
            ("\\n", vec![]),
            ("\"", vec![task(6), task(7)]),
            ("\"say\":", vec![task(7)]),
            ("hi \\\"", vec![task(7)]),
        ] {
            assert_eq!(
                containing(&store, project, "v", text).await,
                expected,
                "{}: {text}",
                db.label
            );
        }
        store.close().await;
    }
}

#[tokio::test]
async fn number_ranges_match_only_numbers_whatever_else_a_field_holds() {
    for db in databases().await {
        let store = open_store(&db).await;
        let values = [
            "1",
            "5",
            "10",
            "\"7\"",
            "\"abc\"",
            "true",
            "false",
            "null",
            "[]",
            "[3]",
            "{\"a\":1}",
        ];
        let mut data: Vec<String> = values.iter().map(|v| format!(r#"{{"v":{v}}}"#)).collect();
        data.push(r#"{"other":1}"#.to_string());
        let data: Vec<&str> = data.iter().map(String::as_str).collect();
        let project = project_with_tasks(&store, "mixed", &data).await;
        // With and without the field's index (made ahead, as the server does).
        for indexed in [false, true] {
            if indexed {
                store.prepare_data_indexes(project).await.unwrap();
            }
            for (conditions, expected) in [
                (vec![(DataOp::Gt, 2)], vec!["5", "10"]),
                (vec![(DataOp::Gte, 5)], vec!["5", "10"]),
                (vec![(DataOp::Lt, 6)], vec!["1", "5"]),
                (vec![(DataOp::Lte, 1)], vec!["1"]),
                (vec![(DataOp::Gte, 1), (DataOp::Lte, 5)], vec!["1", "5"]),
                (vec![(DataOp::Lt, 0)], vec![]),
                (vec![(DataOp::Gt, 100)], vec![]),
            ] {
                let query = TaskQuery {
                    data: conditions
                        .iter()
                        .map(|(op, bound)| DataCondition {
                            key: "v".to_string(),
                            op: *op,
                            value: serde_json::json!(bound),
                        })
                        .collect(),
                    ..TaskQuery::default()
                };
                for key in [SortKey::Id, SortKey::Data("v".into())] {
                    let sort = TableSort {
                        key,
                        descending: false,
                    };
                    let page = store
                        .task_table(project, &query, &sort, None, 100)
                        .await
                        .unwrap();
                    let mut found: Vec<String> = page
                        .rows
                        .iter()
                        .map(|row| {
                            let data: Value = serde_json::from_str(&row.task.data).unwrap();
                            data["v"].to_string()
                        })
                        .collect();
                    found.sort_by_key(|v| v.parse::<i64>().unwrap_or(i64::MAX));
                    assert_eq!(
                        found, expected,
                        "{}: {conditions:?}, indexed: {indexed}",
                        db.label
                    );
                }
            }
        }
        store.close().await;
    }
}
