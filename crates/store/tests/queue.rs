//! The queue's storage on SQLite and PostgreSQL: calls that arrive together
//! and fail are undone alone, and an overlap change re-marks the tasks.

use gloss_store::{
    NewDraft, NewProject, NewTask, NewUser, ProjectPatch, QueueProject, Store, Submitted, Updated,
    Work,
};
use gloss_test_support::{databases, open_store};
use gloss_types::{PageRequest, ProjectId, Role, TaskId, TaskStatus, Timestamp, User};

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(&NewUser {
            username: name.to_string(),
            password_hash: format!("hash-of-{name}"),
            role: Role::Annotator,
        })
        .await
        .unwrap()
}

/// A project with `count` tasks; returns it and its task ids.
async fn project(store: &Store, name: &str, count: usize) -> (QueueProject, Vec<TaskId>) {
    let project = store
        .create_project(&NewProject {
            name: name.to_string(),
            description: String::new(),
            label_config: "<View/>".to_string(),
            created_by: None,
        })
        .await
        .unwrap();
    let mut import = store.begin_task_import(project.id, None).await.unwrap();
    let tasks: Vec<NewTask> = (0..count)
        .map(|i| NewTask {
            data: format!(r#"{{"n": {i}}}"#),
            ..NewTask::default()
        })
        .collect();
    import.insert(&tasks).await.unwrap();
    import.commit().await.unwrap();
    let ids = store
        .list_tasks(project.id, PageRequest::first(1000))
        .await
        .unwrap()
        .items
        .iter()
        .map(|task| task.id)
        .collect();
    (QueueProject::from(&project), ids)
}

/// The kept counts per status must equal a count of the tasks themselves.
async fn assert_counts_agree(store: &Store, project: ProjectId, label: &str) {
    let tasks = store
        .list_tasks(project, PageRequest::first(1000))
        .await
        .unwrap()
        .items;
    for (status, kept) in store.task_counts(project).await.unwrap() {
        let counted = tasks.iter().filter(|task| task.status == status).count() as i64;
        assert_eq!(kept, counted, "{label}: {status:?}");
    }
}

fn work() -> Work {
    Work {
        result: "[]".to_string(),
        lead_time: None,
        active_ms: None,
        pay: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_call_among_concurrent_ones_is_undone_alone() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (mine, tasks) = project(&store, "mine", 40).await;
        let (_, others) = project(&store, "other", 1).await;
        let mut calls = Vec::new();
        for (n, task) in tasks.iter().enumerate() {
            let person = user(&store, &format!("u{n}")).await;
            let store = store.clone();
            let task = *task;
            // Every fourth annotator also sends a submit for a task of another
            // project at the same moment: it must fail and leave no trace.
            let stray = others[0];
            calls.push(tokio::spawn(async move {
                let now = Timestamp::now().millis();
                let good = store.submit_annotation(mine, task, person.id, work(), now);
                if n % 4 == 0 {
                    let bad = store.submit_annotation(mine, stray, person.id, work(), now);
                    let (good, bad) = tokio::join!(good, bad);
                    assert!(bad.is_err(), "a task of another project was accepted");
                    good
                } else {
                    good.await
                }
            }));
        }
        for call in calls {
            let submitted = call.await.unwrap().unwrap();
            assert!(matches!(submitted, Submitted::Created { .. }), "{label}");
        }
        let counts = store.task_counts(mine.id).await.unwrap();
        assert!(
            counts.contains(&(TaskStatus::Completed, 40)),
            "{label}: {counts:?}"
        );
        assert!(
            store.task_annotations(others[0]).await.unwrap().is_empty(),
            "{label}: the failed calls wrote nothing"
        );
        assert_counts_agree(&store, mine.id, label).await;
        store.close().await;
    }
}

#[tokio::test]
async fn a_new_overlap_reopens_and_completes_tasks() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "p", 2).await;
        let ann = user(&store, "ann").await;
        let now = Timestamp::now().millis();
        store
            .submit_annotation(project, tasks[0], ann.id, work(), now)
            .await
            .unwrap();
        let statuses = |counts: Vec<(TaskStatus, i64)>| {
            counts
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statuses(store.task_counts(project.id).await.unwrap()),
            [(TaskStatus::New, 1), (TaskStatus::Completed, 1)],
            "{label}"
        );
        let patch = ProjectPatch {
            overlap: Some(2),
            ..ProjectPatch::default()
        };
        store
            .update_project(ProjectId(project.id.0), &patch)
            .await
            .unwrap();
        assert_eq!(
            statuses(store.task_counts(project.id).await.unwrap()),
            [(TaskStatus::New, 1), (TaskStatus::InProgress, 1)],
            "{label}: one annotation of two"
        );
        assert_counts_agree(&store, project.id, label).await;
        store.close().await;
    }
}

/// Holding a task (`next`, a skip, an expiry) changes its status and the
/// counts, not its `updated_at`: that says when its data or annotations
/// last changed, and a submit moves it.
#[tokio::test]
async fn holding_a_task_leaves_its_update_time_and_a_submit_moves_it() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "held", 1).await;
        let ann = user(&store, "ann").await;
        let imported = store.task(tasks[0]).await.unwrap().updated_at;
        let later = imported + 60_000;
        let next = store.next_task(project, ann.id, later).await.unwrap();
        assert_eq!(next.map(|next| next.task.id), Some(tasks[0]), "{label}");
        let held = store.task(tasks[0]).await.unwrap();
        assert_eq!(
            (held.status, held.updated_at),
            (TaskStatus::InProgress, imported),
            "{label}"
        );
        store
            .skip_task(project, tasks[0], ann.id, later + 1)
            .await
            .unwrap();
        let skipped = store.task(tasks[0]).await.unwrap();
        assert_eq!(
            (skipped.status, skipped.updated_at),
            (TaskStatus::New, imported),
            "{label}"
        );
        assert_counts_agree(&store, project.id, label).await;
        store
            .submit_annotation(project, tasks[0], ann.id, work(), later + 2)
            .await
            .unwrap();
        let submitted = store.task(tasks[0]).await.unwrap();
        assert_eq!(
            (submitted.status, submitted.updated_at),
            (TaskStatus::Completed, later + 2),
            "{label}"
        );
        store.close().await;
    }
}

/// An import may bring several drafts of one annotator on a task: `next`
/// returns the newest (the latest update, then the latest written), never
/// another annotator's, as the draft read does.
#[tokio::test]
async fn next_returns_the_newest_of_the_annotators_drafts() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let ann = user(&store, "ann").await;
        let bob = user(&store, "bob").await;
        let created = store
            .create_project(&NewProject {
                name: "drafts".to_string(),
                description: String::new(),
                label_config: "<View/>".to_string(),
                created_by: None,
            })
            .await
            .unwrap();
        let draft = |user: &User, name: &str, updated_at: i64| NewDraft {
            user_id: Some(user.id),
            result: format!(r#"[{{"id": "{name}"}}]"#),
            updated_at,
            created_at: 1,
            ..NewDraft::default()
        };
        let mut import = store.begin_task_import(created.id, None).await.unwrap();
        import
            .insert(&[NewTask {
                data: "{}".to_string(),
                drafts: vec![
                    draft(&ann, "older", 5),
                    draft(&ann, "same time, written first", 9),
                    draft(&ann, "newest", 9),
                    draft(&bob, "someone else's", 100),
                    draft(&ann, "oldest", 2),
                ],
                ..NewTask::default()
            }])
            .await
            .unwrap();
        import.commit().await.unwrap();
        let project = QueueProject::from(&created);
        let next = store
            .next_task(project, ann.id, Timestamp::now().millis())
            .await
            .unwrap()
            .expect("a task");
        let got = next.draft.expect("a draft");
        assert_eq!(got.result[0]["id"], "newest", "{label}");
        assert_eq!(got.updated_at, Timestamp(9), "{label}");
        let read = store.draft(next.task.id, ann.id).await.unwrap().unwrap();
        assert_eq!(read.result, got.result, "{label}");
        store.close().await;
    }
}

/// A submit's pay entry is written in the submit's own transaction, with
/// the new annotation's id (so is the annotator's own update's); when its week was approved meanwhile, the
/// submit is stored without it and says so (the engine prices it again
/// into an open week), instead of failing on the ledger's trigger.
#[tokio::test]
async fn a_submit_or_own_update_writes_its_pay_entry_with_it_unless_the_week_is_approved() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "p", 2).await;
        let person = user(&store, "payee").await;
        let priced = |task: TaskId, period: &str| Work {
            pay: Some(gloss_store::NewPayEntry {
                id: 0,
                user_id: person.id,
                username: None,
                project_id: project.id,
                task_id: Some(task),
                annotation_id: None,
                review_id: None,
                kind: "submit".to_owned(),
                active_ms: 1200,
                tasks: 1,
                rejected: 0,
                rate_id: None,
                amount: "0.25".to_owned(),
                bonus: "0".to_owned(),
                currency: Some("EUR".to_owned()),
                work_date: period.to_owned(),
                period_start: period.to_owned(),
                created_at: Timestamp(5),
            }),
            ..work()
        };
        let now = Timestamp::now().millis();
        let Submitted::Created {
            annotation,
            pay_recorded,
            ..
        } = store
            .submit_annotation(
                project,
                tasks[0],
                person.id,
                priced(tasks[0], "2026-03-02"),
                now,
            )
            .await
            .unwrap()
        else {
            panic!("{label}: not created");
        };
        assert!(pay_recorded, "{label}");
        let entries = store
            .pay_entries(&gloss_store::PayEntryFilter::default())
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "{label}");
        assert_eq!(
            (
                entries[0].annotation_id,
                entries[0].task_id,
                entries[0].amount.as_str()
            ),
            (Some(annotation.id), Some(tasks[0]), "0.25"),
            "{label}"
        );
        // The annotator's own update writes its entry with it; someone
        // else's (a reviewer's fix) does not.
        let first = annotation.id;
        let Updated::Updated { pay_recorded, .. } = store
            .update_annotation(first, 1, priced(tasks[0], "2026-03-02"), person.id, now)
            .await
            .unwrap()
        else {
            panic!("{label}: stale");
        };
        assert!(pay_recorded, "{label}");
        let reviewer = user(&store, "reviewer").await;
        let Updated::Updated { pay_recorded, .. } = store
            .update_annotation(first, 2, priced(tasks[0], "2026-03-02"), reviewer.id, now)
            .await
            .unwrap()
        else {
            panic!("{label}: stale");
        };
        assert!(!pay_recorded, "{label}: a fix by someone else");
        let entries = store
            .pay_entries(&gloss_store::PayEntryFilter::default())
            .await
            .unwrap();
        assert_eq!(entries.len(), 2, "{label}");
        assert_eq!(entries[1].annotation_id, Some(first), "{label}");

        let approved = gloss_store::PayPeriodRow {
            project_id: project.id,
            user_id: person.id,
            period_start: "2026-03-09".to_owned(),
            active_ms: 0,
            tasks: 0,
            rejected: 0,
            totals: "{}".to_owned(),
            approved_by: None,
            approved_at: Timestamp(6),
        };
        store.approve_pay_period(&approved, 0).await.unwrap();
        let Submitted::Created {
            annotation,
            pay_recorded,
            ..
        } = store
            .submit_annotation(
                project,
                tasks[1],
                person.id,
                priced(tasks[1], "2026-03-09"),
                now,
            )
            .await
            .unwrap()
        else {
            panic!("{label}: not created");
        };
        assert!(!pay_recorded, "{label}: an entry into an approved week");
        assert_eq!(
            store.task_annotations(tasks[1]).await.unwrap()[0].id,
            annotation.id,
            "{label}: the submit is stored all the same"
        );
        let entries = store
            .pay_entries(&gloss_store::PayEntryFilter::default())
            .await
            .unwrap();
        assert_eq!(entries.len(), 2, "{label}");
        store.close().await;
    }
}

/// On SQLite, a write outside the queue (here, a new account) waits for
/// the queue's writer by turns: it goes next once the running batch has
/// committed, even while 64 annotators keep the queue's writer busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_writes_take_their_turn_while_the_queue_is_busy() {
    let db = gloss_test_support::sqlite_db();
    let store = open_store(&db).await;
    let (project, _) = project(&store, "busy", 60_000).await;
    let mut annotators = Vec::new();
    for n in 0..64 {
        annotators.push(user(&store, &format!("busy{n}")).await);
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let mut loops = Vec::new();
    for person in annotators {
        let store = store.clone();
        loops.push(tokio::spawn(async move {
            let mut calls = 0u64;
            while std::time::Instant::now() < until {
                let now = Timestamp::now().millis();
                let Some(next) = store.next_task(project, person.id, now).await.unwrap() else {
                    break;
                };
                store
                    .submit_annotation(project, next.task.id, person.id, work(), now)
                    .await
                    .unwrap();
                calls += 2;
            }
            calls
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut waits = Vec::new();
    for n in 0..20 {
        let started = std::time::Instant::now();
        user(&store, &format!("manager{n}")).await;
        waits.push(started.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut calls = 0;
    for each in loops {
        calls += each.await.unwrap();
    }
    waits.sort();
    eprintln!("queue calls: {calls}; other writes waited {waits:?}");
    assert!(calls > 2_000, "the queue was not kept busy: {calls} calls");
    // Without turns, writes waited 431 ms, 531 ms and 2.03 s in one run
    // (130 ms, 731 ms and 2.03 s in another). One wait over the bound is
    // let pass: a checkpoint in a queue batch's turn took 68-88 ms here at
    // times, and one first run on a slower machine went past 250 ms.
    assert!(
        waits[waits.len() - 2] < std::time::Duration::from_millis(250),
        "writes waited {waits:?}"
    );
    store.close().await;
}

/// A pay entry for `person` in `project` on a day of the week of 2 March.
fn pay_entry(person: &User, project: ProjectId, day: usize) -> gloss_store::NewPayEntry {
    gloss_store::NewPayEntry {
        id: 0,
        user_id: person.id,
        username: None,
        project_id: project,
        task_id: None,
        annotation_id: None,
        review_id: None,
        kind: "submit".to_owned(),
        active_ms: 1000,
        tasks: 1,
        rejected: 0,
        rate_id: None,
        amount: "0.10".to_owned(),
        bonus: "0".to_owned(),
        currency: Some("EUR".to_owned()),
        work_date: format!("2026-03-0{}", 2 + day % 5),
        period_start: "2026-03-02".to_owned(),
        created_at: Timestamp(5),
    }
}

/// The ids of `person`'s pay entries, as the ledger lists them.
async fn pay_ids_of(store: &Store, person: &User) -> Vec<i64> {
    let filter = gloss_store::PayEntryFilter {
        user: Some(person.id),
        ..Default::default()
    };
    let entries = store.pay_entries(&filter).await.unwrap();
    assert!(entries.iter().all(|entry| entry.user_id == person.id));
    entries.iter().map(|entry| entry.id).collect()
}

/// The ids of `person`'s pay entries, picked from the whole ledger (what
/// the ledger by person must list).
async fn ledger_ids_of(store: &Store, person: &User) -> Vec<i64> {
    let all = store
        .pay_entries(&gloss_store::PayEntryFilter::default())
        .await
        .unwrap();
    all.iter()
        .filter(|entry| entry.user_id == person.id)
        .map(|entry| entry.id)
        .collect()
}

/// SQLite reads a person's pay entries through a table filled in steps
/// (`pay_person_index`), and the entries after its high-water mark by id:
/// the ledger lists the same entries before a step, after it, and with
/// some entries on each side; an approval counts them all.
#[tokio::test]
async fn a_persons_pay_entries_are_listed_whether_or_not_their_index_has_them_yet() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (project, _) = project(&store, "p", 1).await;
        let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
        let entries: Vec<_> = (0..300)
            .map(|n| pay_entry(if n % 3 == 0 { &bob } else { &ann }, project.id, n))
            .collect();
        store.add_pay_entries(&entries[..150]).await.unwrap();
        let (ann_ids, bob_ids) = (
            ledger_ids_of(&store, &ann).await,
            ledger_ids_of(&store, &bob).await,
        );
        assert_eq!((ann_ids.len(), bob_ids.len()), (100, 50), "{label}");
        assert_eq!(
            pay_ids_of(&store, &ann).await,
            ann_ids,
            "{label}: none indexed"
        );
        let step = store.index_people().await.unwrap();
        let indexed = if label == "sqlite" { 150 } else { 0 };
        assert_eq!(step, (indexed, false), "{label}");
        assert_eq!(store.index_people().await.unwrap(), (0, false), "{label}");
        assert_eq!(
            pay_ids_of(&store, &ann).await,
            ann_ids,
            "{label}: all indexed"
        );
        assert_eq!(
            pay_ids_of(&store, &bob).await,
            bob_ids,
            "{label}: all indexed"
        );

        store.add_pay_entries(&entries[150..]).await.unwrap();
        let ann_ids = ledger_ids_of(&store, &ann).await;
        assert_eq!(ann_ids.len(), 200, "{label}");
        assert_eq!(
            pay_ids_of(&store, &ann).await,
            ann_ids,
            "{label}: half indexed"
        );
        let period = gloss_store::PayPeriodRow {
            project_id: project.id,
            user_id: ann.id,
            period_start: "2026-03-02".to_owned(),
            active_ms: 200_000,
            tasks: 200,
            rejected: 0,
            totals: r#"{"EUR":"20.00"}"#.to_owned(),
            approved_by: None,
            approved_at: Timestamp(6),
        };
        assert!(
            matches!(
                store.approve_pay_period(&period, 199).await,
                Err(gloss_store::Error::Conflict(_))
            ),
            "{label}"
        );
        store.approve_pay_period(&period, 200).await.unwrap();
        store.close().await;
    }
}

/// Under load the queue writer adds a batch's pay entries and annotations
/// to the tables by person itself once enough have gathered (SQLite), so
/// they never fall far behind while annotators submit.
#[tokio::test]
async fn the_queue_writer_adds_pay_entries_and_annotations_to_the_tables_by_person_as_they_gather()
{
    for db in databases().await {
        if db.label != "sqlite" {
            continue;
        }
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "p", 300).await;
        let person = user(&store, "payee").await;
        let now = Timestamp::now().millis();
        for task in &tasks {
            let mut entry = pay_entry(&person, project.id, 0);
            entry.task_id = Some(*task);
            let priced = Work {
                pay: Some(entry),
                ..work()
            };
            store
                .submit_annotation(project, *task, person.id, priced, now)
                .await
                .unwrap();
        }
        sqlx::any::install_default_drivers();
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        for table in ["pay_person_index", "annotation_person_index"] {
            let (indexed_to, rows): (i64, i64) = sqlx::query_as(&format!(
                "SELECT (SELECT indexed_to FROM {table}_progress), (SELECT COUNT(*) FROM {table})"
            ))
            .fetch_one(&mut connection)
            .await
            .unwrap();
            // 300 rows: one step of 256 or more, none since.
            assert!((256..=300).contains(&rows), "{table}: {rows} rows");
            assert!(indexed_to >= 256, "{table}: {indexed_to}");
        }
        sqlx::Connection::close(connection).await.ok();
        assert_eq!(pay_ids_of(&store, &person).await.len(), 300);
        assert_eq!(
            store
                .annotations_since(project.id, person.id, 0)
                .await
                .unwrap(),
            300
        );
        store.close().await;
    }
}

/// What reads a person's annotations in a project, each its own way: the
/// daily limit's count, the gold position, the data manager's annotator
/// filter (counted alone, and through its candidates with a status), and
/// the productivity report's rows (by annotator, then in submit order).
async fn found_by_annotator(
    store: &Store,
    project: ProjectId,
    person: &User,
) -> (i64, i64, i64, Vec<TaskId>, Vec<(i64, i64)>) {
    let alone = gloss_store::TaskQuery {
        annotator: Some(person.id),
        ..Default::default()
    };
    let with_status = gloss_store::TaskQuery {
        statuses: vec![TaskStatus::Completed],
        ..alone.clone()
    };
    let sort = gloss_store::TableSort {
        key: gloss_store::SortKey::Id,
        descending: false,
    };
    let listed = store
        .task_table(project, &with_status, &sort, None, 100)
        .await
        .unwrap()
        .rows
        .iter()
        .map(|row| row.task.id)
        .collect();
    let activity = store
        .activity_rows(project, 0, i64::MAX, 100)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.user_id.0, row.created_at))
        .collect();
    (
        store
            .annotations_since(project, person.id, 2)
            .await
            .unwrap(),
        store.queue_position(project, person.id).await.unwrap(),
        store.count_task_table(project, &alone).await.unwrap(),
        listed,
        activity,
    )
}

/// SQLite finds a person's annotations through a table filled in steps
/// (`annotation_person_index`), and those after its high-water mark by
/// id: every read finds the same annotations before a step, after it and
/// with some on each side, and an annotation deleted with its task, or
/// reset with it, leaves the table.
#[tokio::test]
async fn a_persons_annotations_are_found_whether_or_not_their_table_has_them_yet() {
    for db in databases().await {
        let label = db.label;
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "p", 8).await;
        let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
        // Ann submits tasks 0..4 at times 1..4, bob 4..6 at times 1..2.
        for (n, task) in tasks[..6].iter().enumerate() {
            let (person, at) = if n < 4 { (&ann, n + 1) } else { (&bob, n - 3) };
            store
                .submit_annotation(project, *task, person.id, work(), at as i64)
                .await
                .unwrap();
        }
        // (person, time) of each submit, in the order productivity lists them.
        let activity = |ann_times: &[i64]| {
            let mut rows: Vec<(i64, i64)> = ann_times
                .iter()
                .map(|at| (ann.id.0, *at))
                .chain([(bob.id.0, 1), (bob.id.0, 2)])
                .collect();
            rows.sort();
            rows
        };
        let none_in_table = found_by_annotator(&store, project.id, &ann).await;
        assert_eq!(
            none_in_table,
            (3, 4, 4, tasks[..4].to_vec(), activity(&[1, 2, 3, 4])),
            "{label}: none in the table"
        );
        let passed = store.index_people().await.unwrap();
        assert_eq!(
            passed,
            (if label == "sqlite" { 6 } else { 0 }, false),
            "{label}"
        );
        assert_eq!(
            found_by_annotator(&store, project.id, &ann).await,
            none_in_table,
            "{label}: all in the table"
        );

        // One more by ann, after the mark; one of hers in the table deleted
        // with its task, another reset.
        store
            .submit_annotation(project, tasks[6], ann.id, work(), 5)
            .await
            .unwrap();
        for (task, action) in [
            (tasks[0], gloss_store::BulkAction::Delete),
            (tasks[1], gloss_store::BulkAction::Reset),
        ] {
            let target = gloss_store::BulkTarget::Tasks(vec![task]);
            assert_eq!(
                store.bulk_tasks(project, target, action, 9).await.unwrap(),
                1,
                "{label}"
            );
        }
        assert_eq!(
            found_by_annotator(&store, project.id, &ann).await,
            (
                3,
                3,
                3,
                vec![tasks[2], tasks[3], tasks[6]],
                activity(&[3, 4, 5])
            ),
            "{label}: half in the table, two gone"
        );
        if label == "sqlite" {
            sqlx::any::install_default_drivers();
            let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM annotation_person_index")
                .fetch_one(&mut connection)
                .await
                .unwrap();
            assert_eq!(
                rows, 4,
                "the deleted and the reset annotation left the table"
            );
            store.delete_project(project.id).await.unwrap();
            let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM annotation_person_index")
                .fetch_one(&mut connection)
                .await
                .unwrap();
            assert_eq!(rows, 0, "the project's annotations left the table");
            sqlx::Connection::close(connection).await.ok();
        }
        store.close().await;
    }
}

/// The server's catch-up of the tables by person steps through a backlog
/// (an import's annotations) and stops once a step takes all there is. It
/// does not go on until a step finds nothing: under load submits keep
/// adding rows after the marks, and a catch-up that waited for none would
/// commit again and again beside the queue for as long as it is busy.
#[tokio::test]
async fn catching_up_the_tables_by_person_stops_once_a_step_takes_all_there_is() {
    for db in databases().await {
        if db.label != "sqlite" {
            continue;
        }
        let store = open_store(&db).await;
        let (project, tasks) = project(&store, "p", 10).await;
        let person = user(&store, "importer").await;
        // 5,000 imported annotations: more than one step of 4,096.
        let mut import = store.begin_task_import(project.id, None).await.unwrap();
        let imported: Vec<NewTask> = (0..5000)
            .map(|n| NewTask {
                data: format!(r#"{{"imported": {n}}}"#),
                annotations: vec![gloss_store::NewAnnotation {
                    completed_by: Some(person.id),
                    result: "[]".to_string(),
                    created_at: n,
                    updated_at: n,
                    ..Default::default()
                }],
                ..NewTask::default()
            })
            .collect();
        import.insert(&imported).await.unwrap();
        import.commit().await.unwrap();
        assert_eq!(store.catch_up_person_indexes().await.unwrap(), 2);
        // A few submits, as between two sweeps under load: one step.
        for task in &tasks {
            store
                .submit_annotation(project, *task, person.id, work(), 9)
                .await
                .unwrap();
        }
        assert_eq!(store.catch_up_person_indexes().await.unwrap(), 1);
        assert_eq!(store.index_people().await.unwrap(), (0, false));
        assert_eq!(
            store
                .annotations_since(project.id, person.id, 0)
                .await
                .unwrap(),
            5010
        );
        store.close().await;
    }
}
