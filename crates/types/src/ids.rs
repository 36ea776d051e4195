//! Typed ids, so that a project id is never passed where a user id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of a user account.
    UserId
);
id_type!(
    /// The id of a project.
    ProjectId
);
id_type!(
    /// The id of an API token (not its secret).
    TokenId
);
id_type!(
    /// The id of a task: one item to annotate.
    TaskId
);
id_type!(
    /// The id of an annotation (one annotator's submitted work on a task).
    AnnotationId
);
id_type!(
    /// The id of a model prediction on a task.
    PredictionId
);
id_type!(
    /// The id of an import job.
    ImportId
);
