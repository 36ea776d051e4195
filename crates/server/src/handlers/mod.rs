//! One module per part of the URL tree under `/api/v1`.

mod auth;
mod comments;
mod datamanager;
mod guidelines;
mod invites;
mod markdown;
mod me;
mod media;
mod pay;
mod productivity;
mod projects;
mod qualification;
mod queue;
mod redteam;
mod review;
mod tasks;
mod users;

use crate::error::ApiError;
use crate::App;
use gloss_types::Code;
use utoipa_axum::router::OpenApiRouter;

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(invites::routes())
        .merge(me::routes())
        .merge(users::routes())
        .merge(projects::routes())
        .merge(guidelines::routes())
        .merge(pay::routes())
        .merge(tasks::routes())
        .merge(datamanager::routes())
        .merge(queue::routes())
        .merge(review::routes())
        .merge(productivity::routes())
        .merge(comments::routes())
        .merge(media::routes())
        .merge(markdown::routes())
        .merge(redteam::routes())
        .merge(qualification::routes())
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        Code::NotFound,
        "no such route; the API is described at /api/v1/openapi.json",
    )
}
