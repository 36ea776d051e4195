//! The pay ledger's storage on SQLite and PostgreSQL: entries and approved
//! periods are never changed or deleted, not even by SQL sent directly, an
//! entry into an approved period is refused, and an approval is stored once.

use gloss_store::{NewPayEntry, PayEntryFilter, PayPeriodRow, Store};
use gloss_test_support::{databases, open_store};
use gloss_types::{AnnotationId, ProjectId, TaskId, Timestamp, UserId};

fn entry(period: &str, amount: &str) -> NewPayEntry {
    NewPayEntry {
        id: 0,
        user_id: UserId(7),
        username: None,
        project_id: ProjectId(3),
        task_id: Some(TaskId(11)),
        annotation_id: Some(AnnotationId(13)),
        review_id: None,
        kind: "submit".to_owned(),
        active_ms: 1500,
        tasks: 1,
        rejected: 0,
        rate_id: None,
        amount: amount.to_owned(),
        bonus: "0".to_owned(),
        currency: Some("USD".to_owned()),
        work_date: period.to_owned(),
        period_start: period.to_owned(),
        created_at: Timestamp(1),
    }
}

async fn count(store: &Store) -> usize {
    store
        .pay_entries(&PayEntryFilter::default())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn the_ledger_and_approvals_never_change() {
    for db in databases().await {
        let store = open_store(&db).await;
        store
            .add_pay_entries(&[entry("2026-03-02", "0.35"), entry("2026-03-09", "0.5")])
            .await
            .unwrap();
        for sql in [
            "UPDATE pay_entries SET amount = '100'",
            "UPDATE pay_entries SET period_start = '2026-03-16' WHERE amount = '0.35'",
            "DELETE FROM pay_entries",
            "DELETE FROM pay_entries WHERE amount = '0.5'",
        ] {
            let refused = store.execute_raw(sql).await;
            assert!(refused.is_err(), "{}: {sql} was allowed", db.label);
        }
        let entries = store.pay_entries(&PayEntryFilter::default()).await.unwrap();
        assert_eq!(
            entries
                .iter()
                .map(|e| e.amount.as_str())
                .collect::<Vec<_>>(),
            ["0.35", "0.5"],
            "{}",
            db.label
        );

        let period = PayPeriodRow {
            project_id: ProjectId(3),
            user_id: UserId(7),
            period_start: "2026-03-02".to_owned(),
            active_ms: 1500,
            tasks: 1,
            rejected: 0,
            totals: r#"{"USD":"0.35"}"#.to_owned(),
            approved_by: None,
            approved_at: Timestamp(2),
        };
        // Totals read from another number of entries are refused.
        assert!(store.approve_pay_period(&period, 5).await.is_err());
        store.approve_pay_period(&period, 1).await.unwrap();
        assert!(
            matches!(
                store.approve_pay_period(&period, 1).await,
                Err(gloss_store::Error::Conflict(_))
            ),
            "{}: approved twice",
            db.label
        );
        // Nothing more goes into the approved week, by the store or by SQL.
        assert!(matches!(
            store.add_pay_entries(&[entry("2026-03-02", "1")]).await,
            Err(gloss_store::Error::Conflict(_))
        ));
        for sql in [
            "INSERT INTO pay_entries (user_id, project_id, kind, amount, work_date, period_start, \
             created_at) VALUES (7, 3, 'submit', '1', '2026-03-02', '2026-03-02', 0)",
            "UPDATE pay_periods SET totals = '{}'",
            "DELETE FROM pay_periods",
        ] {
            assert!(
                store.execute_raw(sql).await.is_err(),
                "{}: {sql} was allowed",
                db.label
            );
        }
        // Another person's week, and the next week, stay open.
        store
            .add_pay_entries(&[
                entry("2026-03-16", "0.25"),
                NewPayEntry {
                    user_id: UserId(8),
                    ..entry("2026-03-02", "0.25")
                },
            ])
            .await
            .unwrap();
        assert_eq!(count(&store).await, 4);
        assert_eq!(
            store.pay_periods(UserId(7), None).await.unwrap(),
            vec![period]
        );
    }
}
