//! People through the API, on SQLite and PostgreSQL: profiles, skills and
//! tiers (who may change what), the tiers list, and routing: a project that
//! requires skills and a tier is labeled only by people who have them, also
//! when many ask for tasks at once.

use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn profiles_skills_and_tiers_are_changed_by_whom_they_may_be() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, admin) = server.user("root", Role::Admin).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, annotator) = server.user("ann", Role::Annotator).await;
        let patch = |token: &str, body: Value| {
            let server = &server;
            let token = token.to_owned();
            async move {
                server
                    .call(Method::PATCH, "/api/v1/users/ann", Some(&token), Some(body))
                    .await
            }
        };
        // Their own profile.
        let (status, me) = patch(&annotator, json!({"display_name": " Ann Lee ", "languages": ["de", "en-GB", "DE"], "time_zone": "Europe/Berlin"})).await;
        assert_eq!(status, 200, "{}: {me}", db.label);
        assert_eq!(
            (
                me["display_name"].clone(),
                me["languages"].clone(),
                me["time_zone"].clone()
            ),
            (
                json!("Ann Lee"),
                json!(["de", "en-GB"]),
                json!("Europe/Berlin")
            )
        );
        for (body, field) in [
            (json!({"time_zone": "Mars Base"}), "time_zone"),
            (
                json!({"languages": ["de", "not a language"]}),
                "languages[1]",
            ),
        ] {
            let (status, error) = patch(&annotator, body).await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some(field)),
                "{error}"
            );
        }
        // Not their own skills; a manager only for members of their projects.
        let (status, _) = patch(&annotator, json!({"skills": ["medical"]})).await;
        assert_eq!(status, 403);
        let (status, _) = patch(&manager, json!({"skills": ["medical"]})).await;
        assert_eq!(status, 404, "not yet one of the manager's people");
        let id = server.create_project(&manager, "p", LABEL_CONFIG).await;
        server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{id}/members"),
                Some(&manager),
                Some(json!({"username": "ann", "role": "annotator"})),
            )
            .await;
        let (status, ann) = patch(
            &manager,
            json!({"skills": ["Medical ", "de", "medical"], "tier": "Specialist"}),
        )
        .await;
        assert_eq!(status, 200, "{ann}");
        assert_eq!(
            (ann["skills"].clone(), ann["tier"].clone()),
            (json!(["de", "medical"]), json!("specialist"))
        );
        let (status, error) = patch(&manager, json!({"tier": "wizard"})).await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("tier")),
            "{error}"
        );
        assert!(error["message"]
            .as_str()
            .unwrap()
            .contains("crowd, specialist, rlhf-rater, qa-analyst"));
        let (status, error) = patch(&manager, json!({"skills": [""]})).await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("skills[0]")),
            "{error}"
        );
        // The members list shows them; the manager reads the person.
        let (_, members) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/members"),
                Some(&manager),
                None,
            )
            .await;
        let listed = members["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["username"] == "ann")
            .unwrap()
            .clone();
        assert_eq!(
            (listed["skills"].clone(), listed["tier"].clone()),
            (json!(["de", "medical"]), json!("specialist"))
        );
        let (status, _) = server
            .call(Method::GET, "/api/v1/users/ann", Some(&manager), None)
            .await;
        assert_eq!(status, 200);

        // The tiers: a tier in use cannot go.
        let (_, tiers) = server
            .call(Method::GET, "/api/v1/tiers", Some(&annotator), None)
            .await;
        assert_eq!(
            tiers["tiers"],
            json!(["crowd", "specialist", "rlhf-rater", "qa-analyst"])
        );
        let (status, error) = server
            .call(
                Method::PUT,
                "/api/v1/tiers",
                Some(&admin),
                Some(json!({"tiers": ["crowd", "expert"]})),
            )
            .await;
        assert_eq!(status, 409, "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("ann is specialist"),
            "{error}"
        );
        let (status, tiers) = server
            .call(
                Method::PUT,
                "/api/v1/tiers",
                Some(&admin),
                Some(json!({"tiers": ["crowd", "specialist", "expert"]})),
            )
            .await;
        assert_eq!(
            (status, tiers["tiers"].clone()),
            (200, json!(["crowd", "specialist", "expert"]))
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_gated_project_reaches_only_qualified_people_under_concurrency() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let id = server
            .create_project(&manager, "radiology", LABEL_CONFIG)
            .await;
        let tasks: Vec<Value> = (0..40)
            .map(|i| json!({"image": format!("/{i}.png")}))
            .collect();
        assert_eq!(
            server
                .call(
                    Method::POST,
                    &format!("/api/v1/projects/{id}/tasks"),
                    Some(&manager),
                    Some(Value::Array(tasks))
                )
                .await
                .0,
            201
        );
        // Qualified people (some a tier above), and people who are not (a
        // tier below, or without the skill).
        let people = [
            ("q1", vec!["medical"], "specialist", true),
            ("q2", vec!["medical", "de"], "qa-analyst", true),
            ("q3", vec!["medical"], "rlhf-rater", true),
            ("q4", vec!["medical"], "specialist", true),
            ("u1", vec!["medical"], "crowd", false),
            ("u2", vec![], "qa-analyst", false),
            ("u3", vec!["legal"], "specialist", false),
            ("u4", vec!["medical"], "crowd", false),
        ];
        let mut tokens = Vec::new();
        for (name, skills, tier, qualified) in &people {
            let (_, token) = server.user(name, Role::Annotator).await;
            server
                .call(
                    Method::POST,
                    &format!("/api/v1/projects/{id}/members"),
                    Some(&manager),
                    Some(json!({"username": name, "role": "annotator"})),
                )
                .await;
            let (status, body) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/users/{name}"),
                    Some(&manager),
                    Some(json!({"skills": skills, "tier": tier})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            tokens.push((name.to_string(), token, *qualified));
        }
        for (body, field) in [
            (json!({"required_tier": "wizard"}), "required_tier"),
            (json!({"required_skills": [" "]}), "required_skills[0]"),
        ] {
            let (status, error) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/projects/{id}"),
                    Some(&manager),
                    Some(body),
                )
                .await;
            assert_eq!(
                (status, error["details"]["field"].as_str()),
                (422, Some(field)),
                "{error}"
            );
        }
        let (status, gated) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{id}"),
                Some(&manager),
                Some(json!({"required_skills": ["Medical"], "required_tier": "specialist"})),
            )
            .await;
        assert_eq!(status, 200, "{gated}");
        assert_eq!(
            (
                gated["required_skills"].clone(),
                gated["required_tier"].clone()
            ),
            (json!(["medical"]), json!("specialist"))
        );

        // Everyone drains the queue at once (one worker each: a person's
        // reservation is theirs, so their own workers would share tasks).
        let mut workers = Vec::new();
        for (name, token, _) in &tokens {
            let (client, base, name, token) = (
                server.client.clone(),
                server.url(""),
                name.clone(),
                token.clone(),
            );
            workers.push(tokio::spawn(async move {
                let (mut done, mut refused) = (Vec::new(), 0);
                loop {
                    let next = client.get(format!("{base}/api/v1/projects/{id}/next")).bearer_auth(&token).send().await.unwrap();
                    match next.status().as_u16() {
                        204 => break,
                        403 => {
                            let body: Value = next.json().await.unwrap();
                            assert!(body["details"]["problems"]["qualification"].is_object(), "{body}");
                            refused += 1;
                            break;
                        }
                        200 => {
                            let body: Value = next.json().await.unwrap();
                            let task = body["task"]["id"].as_i64().unwrap();
                            let submit = client.post(format!("{base}/api/v1/tasks/{task}/annotations")).bearer_auth(&token)
                                .json(&json!({"result": [{"from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": ["Cat"]}}]}))
                                .send().await.unwrap();
                            assert_eq!(submit.status().as_u16(), 201);
                            done.push(task);
                        }
                        other => panic!("{name}: next answered {other}"),
                    }
                }
                (name, done, refused)
            }));
        }
        let mut labeled = Vec::new();
        for worker in workers {
            let (name, done, refused) = worker.await.unwrap();
            let qualified = tokens.iter().any(|(n, _, q)| *n == name && *q);
            if qualified {
                assert_eq!(refused, 0, "{name}");
            } else {
                assert!(
                    done.is_empty() && refused == 1,
                    "{}: {name} labeled {done:?}",
                    db.label
                );
            }
            labeled.extend(done);
        }
        labeled.sort_unstable();
        labeled.dedup();
        assert_eq!(
            labeled.len(),
            40,
            "{}: every task labeled once, by the qualified",
            db.label
        );
        // The reason is shown to those who lack a qualification.
        let u1 = &tokens[4].1;
        let (status, refused) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(u1),
                None,
            )
            .await;
        assert_eq!(status, 403);
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("the tier specialist or above (yours: crowd)"),
            "{refused}"
        );
        let u2 = &tokens[5].1;
        let (_, refused) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{id}/next"),
                Some(u2),
                None,
            )
            .await;
        assert_eq!(
            refused["details"]["problems"]["qualification"]["missing_skills"],
            json!(["medical"]),
            "{refused}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn the_work_list_shows_what_is_left_and_what_stops_a_person_and_the_daily_limit_holds() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let (_, manager) = server.user("manager", Role::Manager).await;
        let (_, ann) = server.user("ann", Role::Annotator).await;
        let mut ids = Vec::new();
        for (name, settings) in [
            ("limited", json!({"daily_limit": 2})),
            ("gated", json!({"required_skills": ["legal"]})),
            ("guided", json!({})),
        ] {
            let id = server.create_project(&manager, name, LABEL_CONFIG).await;
            let tasks: Vec<Value> = (0..5)
                .map(|i| json!({"image": format!("/{i}.png")}))
                .collect();
            server
                .call(
                    Method::POST,
                    &format!("/api/v1/projects/{id}/tasks"),
                    Some(&manager),
                    Some(Value::Array(tasks)),
                )
                .await;
            server
                .call(
                    Method::POST,
                    &format!("/api/v1/projects/{id}/members"),
                    Some(&manager),
                    Some(json!({"username": "ann", "role": "annotator"})),
                )
                .await;
            let (status, body) = server
                .call(
                    Method::PATCH,
                    &format!("/api/v1/projects/{id}"),
                    Some(&manager),
                    Some(settings),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            ids.push(id);
        }
        server
            .call(
                Method::PUT,
                &format!("/api/v1/projects/{}/guidelines", ids[2]),
                Some(&manager),
                Some(json!({"text": "Read me."})),
            )
            .await;
        let (status, error) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{}", ids[0]),
                Some(&manager),
                Some(json!({"daily_limit": -1})),
            )
            .await;
        assert_eq!(
            (status, error["details"]["field"].as_str()),
            (422, Some("daily_limit"))
        );

        let work = |token: String| {
            let server = &server;
            async move {
                let (status, work) = server
                    .call(Method::GET, "/api/v1/me/work", Some(&token), None)
                    .await;
                assert_eq!(status, 200, "{work}");
                work["projects"].as_array().unwrap().clone()
            }
        };
        let list = work(ann.clone()).await;
        assert_eq!(list.len(), 3, "{}", db.label);
        assert_eq!(
            (
                list[0]["open_tasks"].clone(),
                list[0]["done_today"].clone(),
                list[0]["daily_limit"].clone(),
                list[0]["blocked"].clone()
            ),
            (json!(5), json!(0), json!(2), Value::Null),
            "{list:?}"
        );
        assert_eq!(list[1]["blocked"], "qualification");
        assert!(list[1]["blocked_reason"]
            .as_str()
            .unwrap()
            .contains("legal"));
        assert_eq!(list[2]["blocked"], "guidelines");

        // Two tasks done today in the limited project; the third waits.
        let limited = ids[0];
        for _ in 0..2 {
            let (status, next) = server
                .call(
                    Method::GET,
                    &format!("/api/v1/projects/{limited}/next"),
                    Some(&ann),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{next}");
            let task = next["task"]["id"].as_i64().unwrap();
            let (status, body) = server.call(Method::POST, &format!("/api/v1/tasks/{task}/annotations"), Some(&ann),
                Some(json!({"result": [{"from_name": "class", "to_name": "image", "type": "choices", "value": {"choices": ["Cat"]}}]}))).await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, refused) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{limited}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 403, "{refused}");
        assert_eq!(
            refused["details"]["problems"]["daily_limit"],
            json!({"limit": 2, "done": 2})
        );
        assert!(refused["message"]
            .as_str()
            .unwrap()
            .contains("limit of 2 tasks today"));
        let list = work(ann.clone()).await;
        assert_eq!(
            (
                list[0]["open_tasks"].clone(),
                list[0]["done_today"].clone(),
                list[0]["blocked"].clone()
            ),
            (json!(3), json!(2), json!("daily_limit")),
            "{list:?}"
        );
        // A higher limit lets them go on.
        server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{limited}"),
                Some(&manager),
                Some(json!({"daily_limit": 0})),
            )
            .await;
        let (status, _) = server
            .call(
                Method::GET,
                &format!("/api/v1/projects/{limited}/next"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, 200);
        server.stop().await;
    }
}
