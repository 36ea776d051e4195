//! Every route, called by every kind of caller, on SQLite and PostgreSQL.
//!
//! The table below must list exactly the routes of the OpenAPI document (which
//! is built from the same code as the router): adding a route without saying
//! who may call it fails this test.

use gloss_test_support::{databases, TestServer, LABEL_CONFIG};
use gloss_types::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The kinds of caller, in the column order of [`Expect`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Admin,
    /// A manager account that manages the project.
    Manager,
    /// A manager account that is not a member of the project.
    OtherManager,
    /// A reviewer member of the project.
    Reviewer,
    /// An annotator member of the project.
    Annotator,
    /// An annotator account that is not a member of the project.
    Outsider,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Admin,
    Who::Manager,
    Who::OtherManager,
    Who::Reviewer,
    Who::Annotator,
    Who::Outsider,
];

/// Expected statuses: anonymous, admin, manager, other manager, reviewer, annotator, outsider.
type Expect = [u16; 7];

struct Route {
    method: Method,
    path: &'static str,
    expect: Expect,
}

const fn route(method: Method, path: &'static str, expect: Expect) -> Route {
    Route {
        method,
        path,
        expect,
    }
}

fn table() -> Vec<Route> {
    vec![
        route(
            Method::POST,
            "/api/v1/auth/token",
            [201, 201, 201, 201, 201, 201, 201],
        ),
        route(
            Method::POST,
            "/api/v1/auth/login",
            [200, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/auth/logout",
            [401, 204, 204, 204, 204, 204, 204],
        ),
        // Bearer callers have no session to describe; sessions are covered in api.rs.
        route(
            Method::GET,
            "/api/v1/auth/session",
            [401, 401, 401, 401, 401, 401, 401],
        ),
        route(
            Method::GET,
            "/api/v1/me",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        // Sent with a wrong current password: every signed-in caller gets as far as the check.
        route(
            Method::POST,
            "/api/v1/me/password",
            [401, 422, 422, 422, 422, 422, 422],
        ),
        route(
            Method::GET,
            "/api/v1/me/tokens",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/me/tokens",
            [401, 201, 201, 201, 201, 201, 201],
        ),
        route(
            Method::DELETE,
            "/api/v1/me/tokens/{token_id}",
            [401, 204, 204, 204, 204, 204, 204],
        ),
        route(
            Method::GET,
            "/api/v1/users",
            [401, 200, 200, 200, 403, 403, 403],
        ),
        route(
            Method::POST,
            "/api/v1/users",
            [401, 201, 403, 403, 403, 403, 403],
        ),
        // The target is the annotator: people other than admins see only themselves.
        route(
            Method::GET,
            "/api/v1/users/{username}",
            [401, 200, 404, 404, 404, 200, 404],
        ),
        route(
            Method::PATCH,
            "/api/v1/users/{username}",
            [401, 200, 403, 403, 403, 403, 403],
        ),
        // Anyone signed in has a work list (the operator has none).
        route(
            Method::GET,
            "/api/v1/me/work",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        // The tiers: everyone signed in reads them, admins set them.
        route(
            Method::GET,
            "/api/v1/tiers",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::PUT,
            "/api/v1/tiers",
            [401, 200, 403, 403, 403, 403, 403],
        ),
        route(
            Method::GET,
            "/api/v1/projects",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/projects",
            [401, 201, 201, 201, 403, 403, 403],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::PATCH,
            "/api/v1/projects/{project_id}",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/members",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/members",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}/members/{username}",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/members/{username}/resume",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/tasks",
            [401, 201, 201, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/invites",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/invites",
            [401, 201, 201, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}/invites/{invite_id}",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        // The link is the credential: anyone holding it may read and use it.
        route(
            Method::GET,
            "/api/v1/invites/{code}",
            [200, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/invites/{code}/accept",
            [200, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/label-config/check",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/markdown",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/html",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/label-config/impact",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/tasks",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        // Sent as JSON, not multipart: callers allowed to import get as far as the body check.
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/imports",
            [401, 415, 415, 404, 403, 403, 404],
        ),
        // Imports are the managers': other members do not learn they exist.
        route(
            Method::GET,
            "/api/v1/imports/{import_id}",
            [401, 200, 200, 404, 404, 404, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/task-counts",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        // An annotator sees a task only when they work on it.
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}",
            [401, 200, 200, 404, 200, 404, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/export",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        // The queue: every member labels; the project's managers assign and set priorities.
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/next",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/upcoming",
            // Each caller's project has one task, which `next` reserved.
            [401, 204, 204, 404, 204, 204, 404],
        ),
        route(
            Method::POST,
            "/api/v1/tasks/{task_id}/annotations",
            [401, 201, 201, 404, 201, 201, 404],
        ),
        route(
            Method::POST,
            "/api/v1/tasks/{task_id}/skip",
            [401, 204, 204, 404, 204, 204, 404],
        ),
        route(
            Method::PUT,
            "/api/v1/tasks/{task_id}/draft",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        // Each caller first saves a draft of their own (which outsiders cannot).
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}/draft",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::PATCH,
            "/api/v1/tasks/{task_id}",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        // The annotation is the annotator's: they and the project's reviewers and managers see it.
        route(
            Method::GET,
            "/api/v1/annotations/{annotation_id}",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::PUT,
            "/api/v1/annotations/{annotation_id}",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/annotations/{annotation_id}/versions",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        // Review: reviewers and managers, never on their own work (the annotation is the annotator's).
        route(
            Method::PATCH,
            "/api/v1/annotations/{annotation_id}",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/annotations/{annotation_id}/reviews",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/annotations/{annotation_id}/reviews",
            [401, 201, 201, 404, 201, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/review/next",
            [401, 204, 204, 404, 204, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/review/progress",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/quality",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        // Productivity: members see their own row, managers everyone's;
        // the leaderboard across projects is for managers and admins.
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/productivity",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/productivity",
            [401, 200, 200, 200, 403, 403, 403],
        ),
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}/consensus",
            [401, 200, 200, 404, 200, 404, 404],
        ),
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}/compare",
            [401, 200, 200, 404, 200, 404, 404],
        ),
        // Comments: reviewers and managers on any task, annotators on tasks they work on.
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}/comments",
            [401, 200, 200, 404, 200, 404, 404],
        ),
        route(
            Method::POST,
            "/api/v1/tasks/{task_id}/comments",
            [401, 201, 201, 404, 201, 404, 404],
        ),
        // The manager's comment: its author, the admin and reviewers resolve it.
        route(
            Method::PATCH,
            "/api/v1/comments/{comment_id}",
            [401, 200, 200, 404, 200, 404, 404],
        ),
        route(
            Method::GET,
            "/api/v1/me/notifications",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::POST,
            "/api/v1/me/notifications/read",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/assignments",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/assignments",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/unassign",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        // The data manager: the table for reviewers and managers, bulk
        // actions for managers, views for every member (a shared view,
        // made by the manager, is changed by managers only).
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/task-table",
            [401, 200, 200, 404, 200, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/tasks/bulk",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/views",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/views",
            [401, 201, 201, 404, 201, 201, 404],
        ),
        route(
            Method::PATCH,
            "/api/v1/views/{view_id}",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/views/{view_id}",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        // Media of a project, to its members only.
        route(
            Method::GET,
            "/api/v1/media/{key}",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        // The key is a PNG: members learn it is not a video, others nothing.
        route(
            Method::GET,
            "/api/v1/media/{key}/frames",
            [401, 415, 415, 404, 415, 415, 404],
        ),
        route(
            Method::GET,
            "/api/v1/media/{key}/samples",
            [401, 415, 415, 404, 415, 415, 404],
        ),
        // Nor a sound.
        route(
            Method::GET,
            "/api/v1/media/{key}/peaks",
            [401, 415, 415, 404, 415, 415, 404],
        ),
        // Guidelines: members read and acknowledge, managers write.
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/guidelines",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::PUT,
            "/api/v1/projects/{project_id}/guidelines",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/guidelines/versions",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/guidelines/acknowledge",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        // Training feedback: its annotator only. Qualification tests:
        // members take them, managers read everyone's results; an attempt
        // (the annotator's) is seen by its person and the managers and
        // answered by its person only.
        route(
            Method::GET,
            "/api/v1/annotations/{annotation_id}/feedback",
            [401, 403, 403, 404, 403, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/qualification",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/qualification/attempts",
            [401, 201, 201, 404, 201, 201, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/qualification/results",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/qualification/results.csv",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}/qualification/certifications/{username}",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/qualification-attempts/{attempt_id}",
            [401, 200, 200, 404, 404, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/qualification-attempts/{attempt_id}/answers",
            [401, 403, 403, 404, 404, 200, 404],
        ),
        // A project's model endpoint (red teaming): its managers only.
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/model-endpoint",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::PUT,
            "/api/v1/projects/{project_id}/model-endpoint",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}/model-endpoint",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        // Chats: whoever may annotate the task; without an endpoint, 409.
        route(
            Method::GET,
            "/api/v1/tasks/{task_id}/chat",
            [401, 200, 200, 404, 200, 200, 404],
        ),
        route(
            Method::POST,
            "/api/v1/tasks/{task_id}/chat",
            [401, 409, 409, 404, 409, 409, 404],
        ),
        // Pay: rates, time and approvals are the managers'; a person's
        // timesheet is theirs and their managers' (last: by now the manager
        // manages the annotator); payrolls are managers' and admins'.
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/pay-rates",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/pay-rates",
            [401, 201, 201, 404, 403, 403, 404],
        ),
        route(
            Method::DELETE,
            "/api/v1/projects/{project_id}/pay-rates/{rate_id}",
            [401, 204, 204, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/projects/{project_id}/time",
            [401, 200, 200, 404, 403, 403, 404],
        ),
        route(
            Method::POST,
            "/api/v1/projects/{project_id}/timesheets/{username}/{period_start}/approve",
            [401, 201, 201, 404, 403, 403, 404],
        ),
        route(
            Method::GET,
            "/api/v1/me/timesheet",
            [401, 200, 200, 200, 200, 200, 200],
        ),
        route(
            Method::GET,
            "/api/v1/users/{username}/timesheet",
            [401, 200, 200, 404, 404, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/users/{username}/pay-entries",
            [401, 200, 200, 404, 404, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/users/{username}/time",
            [401, 200, 200, 404, 404, 200, 404],
        ),
        route(
            Method::GET,
            "/api/v1/payroll",
            [401, 200, 200, 200, 403, 403, 403],
        ),
    ]
}

/// The callers of one test instance and their tokens.
struct Cast {
    tokens: Vec<(Who, Option<String>)>,
}

impl Cast {
    async fn new(server: &TestServer) -> Cast {
        let mut tokens = vec![(Who::Anonymous, None)];
        for (who, name, role) in [
            (Who::Admin, "admin", Role::Admin),
            (Who::Manager, "manager", Role::Manager),
            (Who::OtherManager, "other-manager", Role::Manager),
            (Who::Reviewer, "reviewer", Role::Reviewer),
            (Who::Annotator, "annotator", Role::Annotator),
            (Who::Outsider, "outsider", Role::Annotator),
        ] {
            let (_, token) = server.user(name, role).await;
            tokens.push((who, Some(token)));
        }
        Cast { tokens }
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(candidate, _)| *candidate == who)
            .and_then(|(_, token)| token.as_deref())
    }
}

/// A project managed by `manager`, with `reviewer` and `annotator` as members.
async fn project(server: &TestServer, cast: &Cast) -> i64 {
    let manager = cast.token(Who::Manager);
    let body = json!({"name": "p", "label_config": LABEL_CONFIG});
    let (status, created) = server
        .call(Method::POST, "/api/v1/projects", manager, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    for (username, role) in [("reviewer", "reviewer"), ("annotator", "annotator")] {
        let path = format!("/api/v1/projects/{id}/members");
        let (status, body) = server
            .call(
                Method::POST,
                &path,
                manager,
                Some(json!({"username": username, "role": role})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    id
}

/// Fills in a route's path and body for one call by `who`, creating what the call acts on.
async fn prepare(
    server: &TestServer,
    cast: &Cast,
    route: &Route,
    who: Who,
    n: usize,
) -> (String, Option<Value>) {
    let mut path = route.path.to_string();
    let needs_project = [
        "{project_id}",
        "{import_id}",
        "{task_id}",
        "{key}",
        "{annotation_id}",
        "{invite_id}",
        "{code}",
        "{view_id}",
        "{comment_id}",
    ]
    .iter()
    .any(|name| path.contains(name));
    let project_id = if needs_project {
        Some(project(server, cast).await)
    } else {
        None
    };
    if let Some(id) = project_id {
        path = path.replace("{project_id}", &id.to_string());
    }
    let needs_task = [
        "{import_id}",
        "{task_id}",
        "{annotation_id}",
        "{comment_id}",
        "/next",
        "assign",
        "/bulk",
    ]
    .iter()
    .any(|part| route.path.contains(part));
    let mut task_id = 0;
    if needs_task {
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/tasks", project_id.unwrap()),
                cast.token(Who::Manager),
                Some(json!([{"image": "/img/1.png"}])),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        path = path.replace("{import_id}", &created["import_id"].to_string());
        let task = server
            .engine
            .store()
            .list_tasks(
                gloss_types::ProjectId(project_id.unwrap()),
                gloss_types::PageRequest::first(1),
            )
            .await
            .unwrap();
        task_id = task.items[0].id.0;
        path = path.replace("{task_id}", &task_id.to_string());
    }
    let work = json!({"result": [{"from_name": "class", "to_name": "image", "type": "choices",
                                  "value": {"choices": ["Cat"]}}]});
    let training_body = training_setup(server, cast, route, &mut path, project_id).await;
    if path.contains("{annotation_id}") {
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task_id}/annotations"),
                cast.token(Who::Annotator),
                Some(work.clone()),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        path = path.replace("{annotation_id}", &created["id"].to_string());
    }
    if route.method == Method::GET && route.path.ends_with("/draft") {
        // Outsiders are refused here already; the GET below is what is checked.
        server
            .call(Method::PUT, &path, cast.token(who), Some(work.clone()))
            .await;
    }
    if route.path.ends_with("/guidelines/acknowledge") {
        let (status, body) = server
            .call(
                Method::PUT,
                &format!("/api/v1/projects/{}/guidelines", project_id.unwrap()),
                cast.token(Who::Manager),
                Some(json!({"text": "Version 1."})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    if path.contains("{comment_id}") {
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/tasks/{task_id}/comments"),
                cast.token(Who::Manager),
                Some(json!({"text": "a comment"})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        path = path.replace("{comment_id}", &created["id"].to_string());
    }
    if path.contains("{view_id}") {
        let (status, created) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/views", project_id.unwrap()),
                cast.token(Who::Manager),
                Some(json!({"name": "shared", "shared": true, "sort": "-updated"})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        path = path.replace("{view_id}", &created["id"].to_string());
    }
    if path.contains("{key}") {
        let png = gloss_test_support::tiny_png();
        let key = server.engine.media().put(png.clone().into()).await.unwrap();
        let media = gloss_store::NewMedia {
            key: key.as_str().to_string(),
            content_type: "image/png".into(),
            size: png.len() as i64,
            width: Some(1),
            height: Some(1),
        };
        server
            .engine
            .store()
            .link_project_media(gloss_types::ProjectId(project_id.unwrap()), &media, "a.png")
            .await
            .unwrap();
        path = path.replace("{key}", key.as_str());
    }
    if path.contains("{invite_id}") || path.contains("{code}") {
        let (status, made) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/invites", project_id.unwrap()),
                cast.token(Who::Manager),
                Some(json!({"role": "annotator"})),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        path = path.replace("{invite_id}", &made["id"].to_string());
        path = path.replace("{code}", made["code"].as_str().unwrap());
    }
    if route.path.ends_with("/export") {
        path.push_str("?format=json");
    }
    if route.path == "/api/v1/payroll" {
        path.push_str("?from=2024-01-01&to=2030-12-31");
    }
    // A past Monday: each call approves it in a new project.
    path = path.replace("{period_start}", "2024-01-01");
    if path.contains("{rate_id}") {
        let (status, made) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{}/pay-rates", project_id.unwrap()),
                cast.token(Who::Manager),
                Some(json!({"mode": "per_task", "rate": "0.35", "currency": "USD"})),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        path = path.replace("{rate_id}", &made["id"].to_string());
    }
    if path.contains("{token_id}") {
        let owner = if who == Who::Anonymous {
            Who::Admin
        } else {
            who
        };
        let (status, created) = server
            .call(
                Method::POST,
                "/api/v1/me/tokens",
                cast.token(owner),
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(status, 201);
        path = path.replace("{token_id}", &created["token"]["id"].to_string());
    }
    if path.contains("{username}") {
        let target = if route.method == Method::PATCH {
            let name = format!("target{n}");
            server.user(&name, Role::Annotator).await;
            name
        } else {
            "annotator".to_string()
        };
        path = path.replace("{username}", &target);
    }
    let body = match (route.method.clone(), route.path) {
        (Method::POST, "/api/v1/auth/token" | "/api/v1/auth/login") => {
            Some(json!({"username": "admin", "password": gloss_test_support::PASSWORD}))
        }
        (Method::POST, "/api/v1/me/password") => {
            Some(json!({"current_password": "not it", "new_password": "whatever-long"}))
        }
        (Method::POST, "/api/v1/me/tokens") => Some(json!({"name": "ci"})),
        (Method::POST, "/api/v1/users") => Some(
            json!({"username": format!("new{n}"), "password": "long enough", "role": "annotator"}),
        ),
        (Method::PATCH, "/api/v1/users/{username}") => Some(json!({"role": "reviewer"})),
        (Method::PUT, "/api/v1/tiers") => {
            Some(json!({"tiers": ["crowd", "specialist", "rlhf-rater", "qa-analyst"]}))
        }
        (Method::POST, "/api/v1/projects") => {
            Some(json!({"name": "new", "label_config": LABEL_CONFIG}))
        }
        (Method::PATCH, "/api/v1/projects/{project_id}") => Some(json!({"name": "renamed"})),
        (Method::POST, "/api/v1/projects/{project_id}/pay-rates") => {
            Some(json!({"mode": "hourly", "rate": "12.50", "currency": "EUR"}))
        }
        (Method::POST, "/api/v1/projects/{project_id}/members") => {
            Some(json!({"username": "outsider"}))
        }
        (Method::POST, "/api/v1/projects/{project_id}/tasks") => {
            Some(json!([{"image": "/img/1.png"}, {"image": "/img/2.png"}]))
        }
        (Method::POST, "/api/v1/projects/{project_id}/imports") => Some(json!({"file": "x"})),
        // A public address, so that nothing is looked up.
        (Method::PUT, "/api/v1/projects/{project_id}/model-endpoint") => {
            Some(json!({"url": "https://1.1.1.1/v1", "model": "m", "api_key": "sk-x"}))
        }
        (Method::PUT, "/api/v1/projects/{project_id}/guidelines") => {
            Some(json!({"text": "# Rules\nBox every car."}))
        }
        (Method::POST, "/api/v1/projects/{project_id}/guidelines/acknowledge") => {
            Some(json!({"version": 1}))
        }
        (Method::POST, "/api/v1/tasks/{task_id}/chat") => {
            Some(json!({"messages": [{"role": "user", "content": "hi"}]}))
        }
        (Method::POST, "/api/v1/tasks/{task_id}/annotations")
        | (Method::PUT, "/api/v1/tasks/{task_id}/draft") => Some(work),
        (Method::PUT, "/api/v1/annotations/{annotation_id}") => {
            Some(json!({"result": work["result"], "version": 1}))
        }
        (Method::PATCH, "/api/v1/tasks/{task_id}") => Some(json!({"priority": 3})),
        (Method::POST, "/api/v1/projects/{project_id}/invites") => {
            Some(json!({"role": "annotator"}))
        }
        (Method::POST, "/api/v1/invites/{code}/accept") => Some(
            json!({"username": format!("joiner{n}"), "password": gloss_test_support::PASSWORD}),
        ),
        (
            Method::POST,
            "/api/v1/label-config/check" | "/api/v1/projects/{project_id}/label-config/impact",
        ) => Some(json!({"label_config": LABEL_CONFIG})),
        (Method::POST, "/api/v1/markdown") => Some(json!({"texts": ["**hi**"]})),
        (Method::POST, "/api/v1/html") => Some(json!({"texts": ["<b>hi</b>"]})),
        (Method::POST, "/api/v1/projects/{project_id}/tasks/bulk") => {
            Some(json!({"action": "set_priority", "tasks": [task_id], "priority": 2}))
        }
        (Method::POST, "/api/v1/projects/{project_id}/views") => {
            Some(json!({"name": "mine", "filter": {"status": ["new"]}}))
        }
        (Method::PATCH, "/api/v1/views/{view_id}") => Some(json!({"name": "renamed"})),
        (Method::PATCH, "/api/v1/annotations/{annotation_id}") => {
            Some(json!({"ground_truth": true}))
        }
        (Method::POST, "/api/v1/annotations/{annotation_id}/reviews") => {
            Some(json!({"verdict": "accept"}))
        }
        (Method::POST, "/api/v1/tasks/{task_id}/comments") => Some(json!({"text": "hi"})),
        (Method::PATCH, "/api/v1/comments/{comment_id}") => Some(json!({"resolved": true})),
        (Method::POST, "/api/v1/me/notifications/read") => Some(json!({})),
        (
            Method::POST,
            "/api/v1/projects/{project_id}/assignments" | "/api/v1/projects/{project_id}/unassign",
        ) => Some(json!({"username": "annotator", "task_ids": [task_id]})),
        _ => None,
    };
    (path, training_body.or(body))
}

/// Makes the project a training project (feedback) or a qualification test
/// with a gold task (and for `{attempt_id}`, the annotator's attempt at a
/// new one); returns the body of an answer.
async fn training_setup(
    server: &TestServer,
    cast: &Cast,
    route: &Route,
    path: &mut String,
    project_id: Option<i64>,
) -> Option<Value> {
    let manager = cast.token(Who::Manager);
    if route.path.ends_with("/feedback") {
        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/v1/projects/{}", project_id.unwrap()),
                manager,
                Some(json!({"kind": "training"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        return None;
    }
    if !route.path.contains("qualification") {
        return None;
    }
    let project_id = match project_id {
        Some(id) => id,
        None => project(server, cast).await,
    };
    let choice = json!([{"from_name": "class", "to_name": "image", "type": "choices",
                         "value": {"choices": ["Cat"]}}]);
    let (status, body) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/projects/{project_id}"),
            manager,
            Some(json!({"kind": "qualification", "grants_certification": "cats"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project_id}/tasks"),
            manager,
            Some(json!([{"data": {"image": "/g.png"}, "annotations": [
                {"completed_by": {"username": "manager"}, "ground_truth": true, "result": choice}]}])),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    if route.path.contains("/certifications/") {
        // The annotator passes, so there is a certification to revoke.
        let (status, attempt) = server
            .call(
                Method::POST,
                &format!("/api/v1/projects/{project_id}/qualification/attempts"),
                cast.token(Who::Annotator),
                None,
            )
            .await;
        assert_eq!(status, 201, "{attempt}");
        let (status, done) = server
            .call(
                Method::POST,
                &format!(
                    "/api/v1/qualification-attempts/{}/answers",
                    attempt["attempt"]["id"]
                ),
                cast.token(Who::Annotator),
                Some(json!({"task_id": attempt["tasks"][0]["task"]["id"], "result": choice})),
            )
            .await;
        assert_eq!(
            (status, &done["attempt"]["passed"]),
            (200, &json!(true)),
            "{done}"
        );
        return None;
    }
    if !path.contains("{attempt_id}") {
        return None;
    }
    let (status, attempt) = server
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project_id}/qualification/attempts"),
            cast.token(Who::Annotator),
            None,
        )
        .await;
    assert_eq!(status, 201, "{attempt}");
    *path = path.replace("{attempt_id}", &attempt["attempt"]["id"].to_string());
    Some(json!({"task_id": attempt["tasks"][0]["task"]["id"], "result": choice}))
}

fn documented_routes() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(gloss_server::openapi()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn the_table_lists_every_route() {
    let listed: BTreeSet<(String, String)> = table()
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_string()))
        .collect();
    let documented = documented_routes();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without an access expectation in tests/access.rs: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "expectations for routes that do not exist: {stale:?}"
    );
    assert_eq!(listed.len(), table().len(), "a route is listed twice");
}

#[tokio::test]
async fn every_route_checks_the_callers_role() {
    for db in databases().await {
        let server = TestServer::start(&db).await;
        let cast = Cast::new(&server).await;
        let mut failures = Vec::new();
        let mut n = 0;
        for route in table() {
            for (column, who) in EVERYONE.iter().enumerate() {
                n += 1;
                let (path, body) = prepare(&server, &cast, &route, *who, n).await;
                let (status, response) = server
                    .call(route.method.clone(), &path, cast.token(*who), body)
                    .await;
                let expected = route.expect[column];
                if status != expected {
                    failures.push(format!(
                        "{} {} as {who:?}: {status}, expected {expected}: {response}",
                        route.method, path
                    ));
                }
                if status >= 400 {
                    let code = response["code"].as_str().unwrap_or_default();
                    if code.is_empty() || response["message"].as_str().is_none() {
                        failures.push(format!(
                            "{} {path} as {who:?}: error body is not {{code, message}}: {response}",
                            route.method
                        ));
                    }
                }
            }
        }
        // A made-up token is no better than none.
        let (status, _) = server
            .call(Method::GET, "/api/v1/me", Some("gls_made_up"), None)
            .await;
        assert_eq!(status, 401);
        assert!(
            failures.is_empty(),
            "{}: {} wrong answers:\n{}",
            db.label,
            failures.len(),
            failures.join("\n")
        );
        server.stop().await;
    }
}
