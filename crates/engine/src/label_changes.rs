//! Changing a label config on a project that already has work: which stored
//! results use labels (or whole controls) the new config lacks, and the
//! rewrite that renames, merges or removes them, applied with the config in
//! one transaction.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::Engine;
use gloss_schema::LabelConfig;
use gloss_store::RewrittenResults;
use gloss_types::{ProjectId, ProjectRole};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What becomes of one label a new config lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelChange {
    /// The control (`from_name`) whose results carry the label.
    pub from_name: String,
    /// The label or choice as results carry it.
    pub label: String,
    /// Its new name (a rename, or a merge into an existing label), or `null`
    /// to remove it from results (a region left without a label goes too).
    pub to: Option<String>,
}

/// How many stored results use one label of one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelUse {
    pub from_name: String,
    pub label: String,
    /// Result items (regions, classifications) carrying it.
    pub results: u64,
    /// Whether the new config still has it.
    pub kept: bool,
}

/// A control that stored results use and the new config lacks entirely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlUse {
    pub from_name: String,
    pub results: u64,
}

/// The impact of a new label config on a project's stored results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelConfigImpact {
    /// Every label stored results use, with its count.
    pub labels: Vec<LabelUse>,
    /// Controls the new config drops, with the results they would lose.
    pub controls_removed: Vec<ControlUse>,
    /// The labels each control of the new config offers (rename targets).
    pub new_labels: BTreeMap<String, Vec<String>>,
    /// Result items in all (annotations, drafts and predictions).
    pub total_results: u64,
}

impl LabelConfigImpact {
    /// Labels in use that the new config lacks.
    fn lost(&self) -> impl Iterator<Item = &LabelUse> {
        self.labels.iter().filter(|label| !label.kept)
    }
}

/// The labels (or choices) a result item carries, and the key they sit under:
/// `value[type]` when it is a list of strings (`rectanglelabels`, `choices`…).
fn item_labels(item: &Value) -> Option<(&str, &str, Vec<&str>)> {
    let from_name = item.get("from_name")?.as_str()?;
    let kind = item.get("type")?.as_str()?;
    let values = item.get("value")?.get(kind)?.as_array()?;
    Some((
        from_name,
        kind,
        values.iter().filter_map(Value::as_str).collect(),
    ))
}

/// Counts of labels and controls in stored results, added one result at a time.
#[derive(Default)]
struct Usage {
    labels: BTreeMap<(String, String), u64>,
    controls: BTreeMap<String, u64>,
    total: u64,
}

impl Usage {
    fn add(&mut self, text: &str) {
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
            return;
        };
        for item in &items {
            self.total += 1;
            if let Some(from_name) = item.get("from_name").and_then(Value::as_str) {
                *self.controls.entry(from_name.to_string()).or_default() += 1;
            }
            if let Some((from_name, _, labels)) = item_labels(item) {
                for label in labels {
                    *self
                        .labels
                        .entry((from_name.to_string(), label.to_string()))
                        .or_default() += 1;
                }
            }
        }
    }

    fn impact(self, new_config: &LabelConfig) -> LabelConfigImpact {
        let labels = self
            .labels
            .into_iter()
            .filter(|((from_name, _), _)| new_config.control(from_name).is_some())
            .map(|((from_name, label), results)| LabelUse {
                kept: new_config
                    .control(&from_name)
                    .is_some_and(|control| control.allows_label(&label)),
                from_name,
                label,
                results,
            })
            .collect();
        let controls_removed = self
            .controls
            .into_iter()
            // A chat's messages name the chat itself (an object), not a control.
            .filter(|(from_name, _)| {
                new_config.control(from_name).is_none()
                    && !new_config
                        .object(from_name)
                        .is_some_and(|object| object.kind == gloss_schema::ObjectKind::Chat)
            })
            .map(|(from_name, results)| ControlUse { from_name, results })
            .collect();
        let new_labels = new_config
            .controls
            .iter()
            .filter(|control| !control.labels.is_empty())
            .map(|control| {
                let values = control
                    .labels
                    .iter()
                    .map(|label| label.value.clone())
                    .collect();
                (control.name.clone(), values)
            })
            .collect();
        LabelConfigImpact {
            labels,
            controls_removed,
            new_labels,
            total_results: self.total,
        }
    }
}

/// Applies `changes` to one stored result; `None` when nothing changed.
/// Items of dropped controls go; labels are renamed or removed (a list that
/// ends up empty removes its item: a region without a label, a
/// classification without a choice).
fn rewrite(
    text: &str,
    changes: &BTreeMap<(&str, &str), Option<&str>>,
    dropped: &BTreeSet<&str>,
) -> Option<String> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let mut changed = false;
    let mut kept = Vec::with_capacity(items.len());
    for mut item in items {
        let from_name = item
            .get("from_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if dropped.contains(from_name.as_str()) {
            changed = true;
            continue;
        }
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(Value::Array(values)) =
            item.get_mut("value").and_then(|value| value.get_mut(&kind))
        {
            let mut next: Vec<Value> = Vec::with_capacity(values.len());
            for value in values.iter() {
                let mapped = match value.as_str() {
                    Some(label) => match changes.get(&(from_name.as_str(), label)) {
                        Some(to) => {
                            changed = true;
                            to.map(|to| Value::String(to.to_string()))
                        }
                        None => Some(value.clone()),
                    },
                    None => Some(value.clone()),
                };
                if let Some(mapped) = mapped {
                    // A merge can make two equal labels on one item: keep one.
                    if !next.contains(&mapped) {
                        next.push(mapped);
                    }
                }
            }
            if next.is_empty() && !values.is_empty() {
                changed = true;
                continue;
            }
            *values = next;
        }
        kept.push(item);
    }
    changed.then(|| Value::Array(kept).to_string())
}

impl Engine {
    /// What saving `label_config` would do to the project's stored results
    /// (its managers).
    pub async fn label_config_impact(
        &self,
        actor: &Actor,
        project: ProjectId,
        label_config: &str,
    ) -> Result<LabelConfigImpact> {
        self.project_with_role(
            actor,
            project,
            ProjectRole::Manager,
            "change the label config",
        )
        .await?;
        let check = crate::label_config_check(label_config)?;
        if !check.valid {
            return Err(Error::invalid("label_config", "has errors; fix them first"));
        }
        self.impact_of(project, &check.config).await
    }

    async fn impact_of(
        &self,
        project: ProjectId,
        config: &LabelConfig,
    ) -> Result<LabelConfigImpact> {
        let mut usage = Usage::default();
        self.store
            .scan_results(project, |text| usage.add(text))
            .await?;
        Ok(usage.impact(config))
    }

    /// Saves a new label config and migrates stored results by `changes`,
    /// in one transaction. Every label in use that the new config lacks must
    /// be given a fate in `changes` (a 422 lists those that are not).
    pub(crate) async fn change_label_config(
        &self,
        actor: &Actor,
        project: ProjectId,
        config: &LabelConfig,
        label_config: &str,
        changes: &[LabelChange],
    ) -> Result<RewrittenResults> {
        let impact = self.impact_of(project, config).await?;
        let given: BTreeMap<(&str, &str), Option<&str>> = changes
            .iter()
            .map(|change| {
                (
                    (change.from_name.as_str(), change.label.as_str()),
                    change.to.as_deref(),
                )
            })
            .collect();
        let missing: Vec<String> = impact
            .lost()
            .filter(|label| !given.contains_key(&(label.from_name.as_str(), label.label.as_str())))
            .map(|label| {
                format!(
                    "{}: `{}` ({} results)",
                    label.from_name, label.label, label.results
                )
            })
            .collect();
        if !missing.is_empty() {
            return Err(Error {
                problems: serde_json::to_value(&missing).ok(),
                ..Error::invalid(
                    "label_changes",
                    format!(
                        "stored results use labels the new config lacks; say what each becomes (rename, merge or remove): {}",
                        missing.join("; ")
                    ),
                )
            });
        }
        for (index, change) in changes.iter().enumerate() {
            let Some(to) = &change.to else { continue };
            let allowed = config
                .control(&change.from_name)
                .is_some_and(|control| control.allows_label(to));
            if !allowed {
                return Err(Error::invalid(
                    &format!("label_changes[{index}].to"),
                    format!(
                        "`{to}` is not a label of `{}` in the new config",
                        change.from_name
                    ),
                ));
            }
        }
        let dropped: BTreeSet<&str> = impact
            .controls_removed
            .iter()
            .map(|control| control.from_name.as_str())
            .collect();
        Ok(self
            .store
            .change_label_config(
                project,
                label_config,
                actor.user().map(|user| user.id),
                |text| rewrite(text, &given, &dropped),
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chats_messages_survive_a_config_change_that_keeps_the_chat() {
        let stored = r#"[{"id":"m1","from_name":"chat","to_name":"chat","type":"chatmessage","value":{"chatmessage":{"role":"user","content":"hi"}}},
            {"id":"m1","from_name":"harm","to_name":"chat","type":"choices","value":{"choices":["Violence"]}}]"#;
        let config = |choices: &str| {
            gloss_schema::parse(&format!(
                r#"<View><Chat name="chat" value="$messages"/><Choices name="harm" toName="chat" perRegion="true">{choices}</Choices></View>"#
            ))
            .0
        };
        let mut usage = Usage::default();
        usage.add(stored);
        let impact = usage.impact(&config(
            r#"<Choice value="Violence"/><Choice value="Hate"/>"#,
        ));
        assert!(
            impact.controls_removed.is_empty(),
            "{:?}",
            impact.controls_removed
        );
        assert!(impact.labels.iter().all(|label| label.kept));
        // Without the chat, its messages go with it.
        let mut usage = Usage::default();
        usage.add(stored);
        let gone = usage.impact(
            &gloss_schema::parse(r#"<View><Text name="t" value="$t"/><Choices name="harm" toName="t"><Choice value="Violence"/></Choices></View>"#).0,
        );
        assert_eq!(
            gone.controls_removed
                .iter()
                .map(|c| (c.from_name.as_str(), c.results))
                .collect::<Vec<_>>(),
            [("chat", 1)]
        );
    }

    #[test]
    fn renames_merge_and_removals_rewrite_only_what_they_name() {
        let text = r#"[{"id":"a","from_name":"label","to_name":"image","type":"rectanglelabels","value":{"x":1,"y":2,"width":3,"height":4,"rectanglelabels":["Car","Truck"]}},
            {"id":"b","from_name":"label","to_name":"image","type":"rectanglelabels","value":{"x":1,"y":2,"width":3,"height":4,"rectanglelabels":["Bike"]}},
            {"id":"c","from_name":"old","to_name":"image","type":"choices","value":{"choices":["x"]}}]"#;
        let changes =
            BTreeMap::from([(("label", "Truck"), Some("Car")), (("label", "Bike"), None)]);
        let dropped = BTreeSet::from(["old"]);
        let out: Value = serde_json::from_str(&rewrite(text, &changes, &dropped).unwrap()).unwrap();
        let items = out.as_array().unwrap();
        assert_eq!(
            items.len(),
            1,
            "the unlabelled region and the dropped control go"
        );
        assert_eq!(
            items[0]["value"]["rectanglelabels"],
            serde_json::json!(["Car"])
        );
        assert_eq!(items[0]["value"]["x"], 1);
        let untouched = BTreeMap::from([(("label", "Nope"), None)]);
        assert_eq!(rewrite(text, &untouched, &BTreeSet::new()), None);
    }
}
