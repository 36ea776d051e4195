//! Reading a label config: XML to [`LabelConfig`] plus every [`Diagnostic`].
//!
//! Reading happens in two passes. The first walks the XML tree and records
//! each tag; the second checks what needs the whole config (unique names,
//! `toName` targets, inferred `toName`, hotkeys), so that one mistake does
//! not hide another.

use std::collections::BTreeMap;

use roxmltree::{Document, Node as XmlNode, ParsingOptions};

use crate::model::{
    data_key, ChoiceMode, ControlKind, ControlTag, Diagnostic, LabelConfig, LabelDef, Node,
    ObjectKind, ObjectTag, RelationLabels, Severity, Skeleton, UnsupportedTag, CONTROL_KINDS,
};

/// Label Studio object tags Gloss does not support yet (lower case).
const OTHER_OBJECT_TAGS: &[&str] = &["audioplus", "pdf", "table", "timeseries"];

/// Label Studio control tags Gloss does not support yet (lower case).
const OTHER_CONTROL_TAGS: &[&str] = &[
    "bitmapmask",
    "bitmapmasklabels",
    "datetime",
    "magicwand",
    "timeserieslabels",
    "vector",
    "vectorlabels",
];

/// Other Label Studio tags (layout and children of unsupported tags).
const OTHER_TAGS: &[&str] = &[
    "channel",
    "collapse",
    "custom",
    "dialog",
    "filter",
    "multichannel",
    "panel",
    "repeater",
    "shortcut",
];

/// How deep tags may nest; see [`Reader::children`].
const MAX_DEPTH: usize = 100;

/// Attributes whose value must be `true` or `false`.
const BOOLEAN_ATTRIBUTES: &[&str] = &[
    "perRegion",
    "required",
    "showInline",
    "canRotate",
    "zoom",
    "zoomControl",
    "rotateControl",
    "editable",
    "smart",
    "smartOnly",
    "perItem",
    "allowTie",
];

/// Reads a Label Studio XML label config.
///
/// Never fails: every problem found is returned as a [`Diagnostic`], sorted
/// by position. The config is usable when no diagnostic is an error (see
/// [`crate::has_errors`]). DTDs are refused, so entities are never expanded.
pub fn parse(text: &str) -> (LabelConfig, Vec<Diagnostic>) {
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = match Document::parse_with_options(text, options) {
        Ok(doc) => doc,
        Err(err) => return (LabelConfig::default(), vec![xml_error(text, &err)]),
    };
    let mut reader = Reader {
        text,
        config: LabelConfig::default(),
        diagnostics: Vec::new(),
        raw_to_names: Vec::new(),
        has_option_tags: Vec::new(),
        names: Vec::new(),
        too_deep: false,
        option_path: Vec::new(),
    };
    let root = doc.root_element();
    if tag_of(root) == "view" {
        reader.config.layout = reader.children(root, Owner::None);
    } else {
        reader.error(
            "bad_root",
            root.range().start,
            format!(
                "the config must start with <View>, not <{}>",
                root.tag_name().name()
            ),
        );
        reader.config.layout = reader.element(root, Owner::None).into_iter().collect();
    }
    reader.resolve(root);
    let Reader {
        config,
        mut diagnostics,
        ..
    } = reader;
    diagnostics.sort_by_key(|d| (d.line, d.column));
    (config, diagnostics)
}

fn xml_error(text: &str, err: &roxmltree::Error) -> Diagnostic {
    use roxmltree::Error;
    match err {
        Error::DtdDetected => {
            let at = find_ignore_case(text, "<!DOCTYPE").unwrap_or(0);
            let (line, column) = text_pos(text, at);
            Diagnostic {
                code: "doctype_not_allowed",
                severity: Severity::Error,
                line,
                column,
                message: "<!DOCTYPE> is not allowed in a label config: \
                          entities and DTDs are never expanded"
                    .into(),
            }
        }
        _ => {
            // These errors carry no position of their own: the input ended.
            let (line, column) = match err {
                Error::UnclosedRootNode | Error::UnexpectedEndOfStream | Error::NoRootNode => {
                    text_pos(text, text.len())
                }
                _ => {
                    let pos = err.pos();
                    (pos.row, pos.col)
                }
            };
            Diagnostic {
                code: "xml_syntax",
                severity: Severity::Error,
                line,
                column,
                message: format!("XML syntax error: {err}"),
            }
        }
    }
}

fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn text_pos(text: &str, at: usize) -> (u32, u32) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (saturate(line), saturate(column))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Lower-cased tag name: Label Studio matches tag names case-insensitively.
fn tag_of(node: XmlNode) -> String {
    node.tag_name().name().to_ascii_lowercase()
}

/// Which tag owns `Label`/`Choice` children met during the walk.
#[derive(Clone, Copy)]
enum Owner {
    None,
    /// Index into `config.controls`.
    Control(usize),
    /// An unsupported tag: its children are its own business.
    Unsupported,
}

/// An attribute value with the byte offset of the attribute.
struct Attr<'a> {
    value: &'a str,
    at: usize,
}

/// A named tag, for the duplicate-name check.
struct Named {
    name: String,
    tag: String,
    at: usize,
}

struct Reader<'t> {
    text: &'t str,
    config: LabelConfig,
    diagnostics: Vec<Diagnostic>,
    /// For each control: its `toName` attribute, if written.
    raw_to_names: Vec<Option<(String, usize)>>,
    /// For each control: whether it has option children, even invalid ones
    /// (so a `<Label>` without value does not also make the control empty).
    has_option_tags: Vec<bool>,
    names: Vec<Named>,
    /// Whether `too_deep` was reported, so it is reported once.
    too_deep: bool,
    /// The `<Choice>`s around the one being read (a taxonomy's path).
    option_path: Vec<String>,
}

impl Reader<'_> {
    fn report(&mut self, code: &'static str, severity: Severity, at: usize, message: String) {
        let position = text_pos(self.text, at);
        self.push(code, severity, position, message);
    }

    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        (line, column): (u32, u32),
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            code,
            severity,
            line,
            column,
            message,
        });
    }

    fn error(&mut self, code: &'static str, at: usize, message: String) {
        self.report(code, Severity::Error, at, message);
    }

    fn warning(&mut self, code: &'static str, at: usize, message: String) {
        self.report(code, Severity::Warning, at, message);
    }

    fn children(&mut self, node: XmlNode, owner: Owner) -> Vec<Node> {
        // The walk recurses, so a hostile config nested deep enough would
        // overflow the stack; real configs nest a handful of levels.
        let depth = node.ancestors().count();
        if depth > MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                self.error(
                    "too_deep",
                    node.range().start,
                    format!("tags are nested more than {MAX_DEPTH} levels deep"),
                );
            }
            return Vec::new();
        }
        node.children()
            .filter(|c| c.is_element())
            .filter_map(|c| self.element(c, owner))
            .collect()
    }

    fn element(&mut self, node: XmlNode, owner: Owner) -> Option<Node> {
        let tag = tag_of(node);
        match tag.as_str() {
            "view" => Some(Node::View {
                attributes: attributes(node),
                children: self.children(node, owner),
            }),
            "header" => self.header(node),
            "style" => Some(Node::Style {
                css: node
                    .children()
                    .filter(|c| c.is_text())
                    .filter_map(|c| c.text())
                    .collect(),
            }),
            "image" => self.object(node, ObjectKind::Image),
            "text" => self.object(node, ObjectKind::Text),
            "video" => self.object(node, ObjectKind::Video),
            "audio" => self.object(node, ObjectKind::Audio),
            "paragraphs" => self.object(node, ObjectKind::Paragraphs),
            "hypertext" => self.object(node, ObjectKind::HyperText),
            "list" => self.object(node, ObjectKind::List),
            "chat" => self.object(node, ObjectKind::Chat),
            "bucket" => {
                self.bucket(node, owner);
                None
            }
            "label" | "choice" => {
                self.option(node, owner);
                None
            }
            "skeleton" => {
                self.skeleton(node, owner);
                None
            }
            "relations" => {
                self.relations(node);
                None
            }
            "relation" => {
                self.error(
                    "misplaced_tag",
                    node.range().start,
                    "<Relation> must be inside <Relations>".into(),
                );
                None
            }
            "edge" => {
                self.error(
                    "misplaced_tag",
                    node.range().start,
                    format!("<{}> must be inside <Skeleton>", node.tag_name().name()),
                );
                None
            }
            _ => match CONTROL_KINDS
                .into_iter()
                .find(|kind| kind.tag().eq_ignore_ascii_case(&tag))
            {
                Some(kind) => self.control(node, kind),
                None => Some(self.unsupported(node, &tag)),
            },
        }
    }

    fn header(&mut self, node: XmlNode) -> Option<Node> {
        let value = match self.attr(node, "value") {
            Some(attr) => attr.value.to_owned(),
            None => node.text().unwrap_or_default().trim().to_owned(),
        };
        if value.is_empty() {
            self.warning(
                "missing_attribute",
                node.range().start,
                "<Header> has no value attribute and no text".into(),
            );
        }
        Some(Node::Header { value })
    }

    fn object(&mut self, node: XmlNode, kind: ObjectKind) -> Option<Node> {
        let tag = node.tag_name().name();
        self.check_common_attributes(node);
        let name = self.name(node);
        let value = match self.attr(node, "value") {
            None => {
                self.error(
                    "missing_attribute",
                    node.range().start,
                    format!("<{tag}> needs a value attribute, such as value=\"$field\""),
                );
                String::new()
            }
            Some(attr) => match data_key(attr.value) {
                Some(key) => key.to_owned(),
                None => {
                    self.error(
                        "bad_attribute_value",
                        attr.at,
                        format!(
                            "<{tag}> attribute value: \"{}\" must name a task data field, \
                             such as \"$field\"",
                            attr.value
                        ),
                    );
                    String::new()
                }
            },
        };
        if kind == ObjectKind::Text {
            self.check_enum(
                node,
                "granularity",
                &["symbol", "word", "sentence", "paragraph"],
            );
        }
        let name = name?;
        let (line, column) = text_pos(self.text, node.range().start);
        self.config.objects.push(ObjectTag {
            kind,
            name: name.clone(),
            value,
            attributes: attributes(node),
            line,
            column,
        });
        Some(Node::Object { name })
    }

    fn control(&mut self, node: XmlNode, kind: ControlKind) -> Option<Node> {
        let tag = kind.tag();
        self.check_common_attributes(node);
        let name = self.name(node);
        let to_name = self
            .attr(node, "toName")
            .map(|attr| (attr.value.to_owned(), attr.at));

        let choice = match kind {
            ControlKind::Choices => Some(
                self.check_enum(node, "choice", &["single", "single-radio", "multiple"])
                    .unwrap_or(ChoiceMode::Single),
            ),
            _ if kind.option_tag().is_some() => {
                self.check_enum(node, "choice", &["single", "multiple"])
            }
            _ => None,
        };

        // `value="$key"` on a labels or choices control takes its options
        // from the task data (Label Studio's dynamic labels and choices).
        let mut labels_from = None;
        if let (Some(_), Some(attr)) = (kind.option_tag(), self.attr(node, "value")) {
            match data_key(attr.value) {
                Some(key) => labels_from = Some(key.to_owned()),
                None => self.error(
                    "bad_attribute_value",
                    attr.at,
                    format!(
                        "<{tag}> attribute value: \"{}\" must name a task data field \
                         holding the options, such as \"$options\"",
                        attr.value
                    ),
                ),
            }
        }

        let index = self.config.controls.len();
        let (line, column) = text_pos(self.text, node.range().start);
        self.config.controls.push(ControlTag {
            kind,
            name: name.clone().unwrap_or_default(),
            to_names: Vec::new(),
            labels: Vec::new(),
            labels_from,
            choice,
            per_region: self.flag(node, "perRegion"),
            required: self.flag(node, "required"),
            skeleton: None,
            buckets: Vec::new(),
            attributes: attributes(node),
            line,
            column,
        });
        self.raw_to_names.push(to_name);
        self.has_option_tags.push(false);
        // Options may sit inside nested <View>s; the rest of a control's
        // children (headers, layout) is not kept in the layout tree.
        self.children(node, Owner::Control(index));
        name.map(|name| Node::Control { name })
    }

    fn option(&mut self, node: XmlNode, owner: Owner) {
        let tag = node.tag_name().name();
        let owner_control = match owner {
            Owner::Unsupported => return,
            Owner::Control(index) => {
                let kind = self.config.controls[index].kind;
                kind.option_tag()
                    .filter(|t| t.eq_ignore_ascii_case(tag))
                    .map(|_| index)
            }
            Owner::None => None,
        };
        let Some(index) = owner_control else {
            let parents = if tag_of(node) == "label" {
                "a labels control such as <RectangleLabels> or <Labels>"
            } else {
                "<Choices>"
            };
            self.error(
                "misplaced_tag",
                node.range().start,
                format!("<{tag}> must be inside {parents}"),
            );
            return;
        };
        self.has_option_tags[index] = true;
        let value = match self.attr(node, "value") {
            Some(attr) => attr.value.to_owned(),
            None => {
                self.error(
                    "missing_attribute",
                    node.range().start,
                    format!("<{tag}> needs a value attribute"),
                );
                return;
            }
        };
        let (line, column) = text_pos(self.text, node.range().start);
        let taxonomy = self.config.controls[index].kind == ControlKind::Taxonomy;
        let def = LabelDef {
            value: value.clone(),
            background: self.attr(node, "background").map(|a| a.value.to_owned()),
            hotkey: self.attr(node, "hotkey").map(|a| a.value.to_owned()),
            alias: self.attr(node, "alias").map(|a| a.value.to_owned()),
            line,
            column,
            path: if taxonomy {
                self.option_path.clone()
            } else {
                Vec::new()
            },
        };
        self.config.controls[index].labels.push(def);
        // Label Studio nests <Choice>s for hierarchical choices.
        self.option_path.push(value);
        self.children(node, owner);
        self.option_path.pop();
    }

    /// Label Studio's `<Relations>`: the labels relations may carry, from its
    /// `<Relation value="…">` children; one per config.
    fn relations(&mut self, node: XmlNode) {
        if self.config.relations.is_some() {
            self.error(
                "duplicate_relations",
                node.range().start,
                "a config has one <Relations>".into(),
            );
            return;
        }
        let multiple = self
            .attr(node, "choice")
            .is_some_and(|a| a.value == "multiple");
        let mut labels: Vec<LabelDef> = Vec::new();
        for child in node.children().filter(XmlNode::is_element) {
            let (line, column) = text_pos(self.text, child.range().start);
            if !tag_of(child).eq_ignore_ascii_case("relation") {
                self.error(
                    "misplaced_tag",
                    child.range().start,
                    format!(
                        "<Relations> holds <Relation>s, not <{}>",
                        child.tag_name().name()
                    ),
                );
                continue;
            }
            let Some(value) = self.attr(child, "value").map(|a| a.value.to_owned()) else {
                self.error(
                    "missing_attribute",
                    child.range().start,
                    "<Relation> needs a value attribute".into(),
                );
                continue;
            };
            if labels.iter().any(|l| l.value == value) {
                self.error(
                    "duplicate_value",
                    child.range().start,
                    format!("the relation label \"{value}\" is given twice"),
                );
                continue;
            }
            labels.push(LabelDef {
                value,
                background: self.attr(child, "background").map(|a| a.value.to_owned()),
                hotkey: None,
                alias: None,
                line,
                column,
                path: Vec::new(),
            });
        }
        self.config.relations = Some(RelationLabels { labels, multiple });
    }

    /// A `<Skeleton>` inside `<KeyPointLabels>` (Gloss's extension, see
    /// [`Skeleton`]); its edges are checked against the labels in
    /// [`Reader::check_options`], once all labels are read.
    fn skeleton(&mut self, node: XmlNode, owner: Owner) {
        let tag = node.tag_name().name();
        let index = match owner {
            Owner::Control(index)
                if matches!(
                    self.config.controls[index].kind,
                    ControlKind::KeyPointLabels | ControlKind::VideoKeyPointLabels
                ) =>
            {
                index
            }
            Owner::Unsupported => return,
            _ => {
                self.error(
                    "misplaced_tag",
                    node.range().start,
                    format!("<{tag}> must be inside <KeyPointLabels> or <VideoKeyPointLabels>"),
                );
                return;
            }
        };
        if self.config.controls[index].skeleton.is_some() {
            self.error(
                "duplicate_skeleton",
                node.range().start,
                format!(
                    "<{kind} name=\"{}\"> already has a <{tag}>; \
                     use one <{kind}> per kind of skeleton",
                    self.config.controls[index].name,
                    kind = self.config.controls[index].kind.tag()
                ),
            );
            return;
        }
        let value = match self.attr(node, "value") {
            Some(attr) if !attr.value.trim().is_empty() => attr.value.to_owned(),
            _ => {
                self.error(
                    "missing_attribute",
                    node.range().start,
                    format!("<{tag}> needs a value attribute naming the kind of skeleton, such as value=\"person\""),
                );
                return;
            }
        };
        let mut edges = Vec::new();
        for child in node.children().filter(|c| c.is_element()) {
            let child_tag = child.tag_name().name();
            if tag_of(child) != "edge" {
                self.error(
                    "misplaced_tag",
                    child.range().start,
                    format!("<{child_tag}> cannot be inside <{tag}>; only <Edge from=\"…\" to=\"…\"/> can"),
                );
                continue;
            }
            let ends = [self.attr(child, "from"), self.attr(child, "to")];
            match ends {
                [Some(from), Some(to)] => {
                    edges.push([from.value.to_owned(), to.value.to_owned()]);
                }
                _ => self.error(
                    "missing_attribute",
                    child.range().start,
                    format!("<{child_tag}> needs from and to attributes naming two labels"),
                ),
            }
        }
        let (line, column) = text_pos(self.text, node.range().start);
        self.config.controls[index].skeleton = Some(Skeleton {
            value,
            edges,
            line,
            column,
        });
    }

    /// A `<Bucket name title default>` inside `<Ranker>`: a column its items
    /// may be moved into.
    fn bucket(&mut self, node: XmlNode, owner: Owner) {
        let tag = node.tag_name().name();
        let index = match owner {
            Owner::Control(index) if self.config.controls[index].kind == ControlKind::Ranker => {
                index
            }
            Owner::Unsupported => return,
            _ => {
                self.error(
                    "misplaced_tag",
                    node.range().start,
                    format!("<{tag}> must be inside <Ranker>"),
                );
                return;
            }
        };
        let name = match self.attr(node, "name") {
            Some(attr) if !attr.value.trim().is_empty() && attr.value != "_" => {
                attr.value.to_owned()
            }
            _ => {
                self.error(
                    "missing_attribute",
                    node.range().start,
                    format!("<{tag}> needs a name attribute (not \"_\"), its key in results"),
                );
                return;
            }
        };
        let control = &self.config.controls[index];
        if control.buckets.iter().any(|b| b.name == name) {
            let message = format!(
                "<{tag}> attribute name: \"{name}\" is already a bucket of <Ranker name=\"{}\">",
                control.name
            );
            self.error("duplicate_name", node.range().start, message);
            return;
        }
        let bucket = crate::model::Bucket {
            name,
            title: self.attr(node, "title").map(|a| a.value.to_owned()),
            default: self.flag(node, "default"),
        };
        self.config.controls[index].buckets.push(bucket);
    }

    fn unsupported(&mut self, node: XmlNode, tag: &str) -> Node {
        let written = node.tag_name().name();
        let known = OTHER_OBJECT_TAGS.contains(&tag)
            || OTHER_CONTROL_TAGS.contains(&tag)
            || OTHER_TAGS.contains(&tag);
        if known {
            self.warning(
                "unsupported_tag",
                node.range().start,
                format!("<{written}> is not supported by Gloss yet; it is kept but not shown"),
            );
        } else {
            self.error(
                "unknown_tag",
                node.range().start,
                format!("<{written}> is not a Label Studio tag"),
            );
        }
        let name = self.attr(node, "name").map(|a| a.value.to_owned());
        if let Some(attr) = self.attr(node, "name") {
            self.names.push(Named {
                name: attr.value.to_owned(),
                tag: written.to_owned(),
                at: attr.at,
            });
        }
        let (line, column) = text_pos(self.text, node.range().start);
        self.config.unsupported.push(UnsupportedTag {
            tag: written.to_owned(),
            name,
            attributes: attributes(node),
            line,
            column,
        });
        Node::Unsupported {
            tag: written.to_owned(),
            children: self.children(node, Owner::Unsupported),
        }
    }

    /// The required `name` of an object or control tag.
    fn name(&mut self, node: XmlNode) -> Option<String> {
        let tag = node.tag_name().name();
        match self.attr(node, "name") {
            Some(attr) if !attr.value.trim().is_empty() => {
                self.names.push(Named {
                    name: attr.value.to_owned(),
                    tag: tag.to_owned(),
                    at: attr.at,
                });
                Some(attr.value.to_owned())
            }
            Some(attr) => {
                self.error(
                    "bad_attribute_value",
                    attr.at,
                    format!("<{tag}> attribute name must not be empty"),
                );
                None
            }
            None => {
                self.error(
                    "missing_attribute",
                    node.range().start,
                    format!("<{tag}> needs a name attribute"),
                );
                None
            }
        }
    }

    /// An attribute by name; Label Studio lower-cases attribute names, so
    /// `toname` works as well as `toName`.
    fn attr<'a>(&self, node: XmlNode<'a, '_>, name: &str) -> Option<Attr<'a>> {
        node.attributes()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .map(|a| Attr {
                value: a.value(),
                at: a.range().start,
            })
    }

    /// A boolean attribute; absent means false. Bad values were reported by
    /// [`Self::check_common_attributes`].
    fn flag(&self, node: XmlNode, name: &str) -> bool {
        self.attr(node, name)
            .is_some_and(|a| a.value.trim().eq_ignore_ascii_case("true"))
    }

    /// Reports an attribute whose value is not one of `allowed`; returns the
    /// choice mode it names, for the `choice` attribute.
    fn check_enum(&mut self, node: XmlNode, name: &str, allowed: &[&str]) -> Option<ChoiceMode> {
        let attr = self.attr(node, name)?;
        let value = attr.value.trim();
        if !allowed.contains(&value) {
            let tag = node.tag_name().name();
            self.error(
                "bad_attribute_value",
                attr.at,
                format!(
                    "<{tag}> attribute {name}: \"{}\" is not one of {}",
                    attr.value,
                    allowed.join(", ")
                ),
            );
            return None;
        }
        match value {
            "single" => Some(ChoiceMode::Single),
            "single-radio" => Some(ChoiceMode::SingleRadio),
            "multiple" => Some(ChoiceMode::Multiple),
            _ => None,
        }
    }

    /// Checks the value of the Label Studio attributes Gloss knows the type
    /// of; other attributes are kept as written and never reported.
    fn check_common_attributes(&mut self, node: XmlNode) {
        let tag = node.tag_name().name();
        for a in node.attributes() {
            let name = a.name();
            let value = a.value().trim();
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            let problem = if BOOLEAN_ATTRIBUTES.iter().any(|b| is(b)) {
                (!value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false"))
                    .then_some("must be true or false")
            } else if is("opacity") || is("fillOpacity") {
                (!value.parse::<f64>().is_ok_and(|v| (0.0..=1.0).contains(&v)))
                    .then_some("must be a number from 0 to 1")
            } else if is("strokeWidth") {
                (!value
                    .parse::<f64>()
                    .is_ok_and(|v| v.is_finite() && v >= 0.0))
                .then_some("must be a number of pixels, 0 or more")
            } else if is("maxSubmissions") || is("rows") {
                (!value.parse::<u32>().is_ok_and(|v| v > 0))
                    .then_some("must be a whole number, 1 or more")
            } else {
                None
            };
            if let Some(problem) = problem {
                self.error(
                    "bad_attribute_value",
                    a.range().start,
                    format!("<{tag}> attribute {name}: \"{}\" {problem}", a.value()),
                );
            }
        }
    }

    /// The checks that need the whole config.
    fn resolve(&mut self, root: XmlNode) {
        self.check_duplicate_names();
        self.resolve_to_names();

        let root_at = root.range().start;
        let has_other = |list: &[&str], config: &LabelConfig| {
            config
                .unsupported
                .iter()
                .any(|u| list.contains(&u.tag.to_ascii_lowercase().as_str()))
        };
        // A config made only of unsupported tags still imports; it just
        // cannot be labelled in Gloss yet.
        if self.config.objects.is_empty() && !has_other(OTHER_OBJECT_TAGS, &self.config) {
            self.error(
                "no_object_tag",
                root_at,
                "the config has no object tag such as <Image> or <Text> to annotate".into(),
            );
        }
        if self.config.controls.is_empty() && !has_other(OTHER_CONTROL_TAGS, &self.config) {
            self.error(
                "no_control_tag",
                root_at,
                "the config has no control tag such as <RectangleLabels> or <Choices>".into(),
            );
        }

        self.check_options();
        // Controls without a name were reported and cannot be referred to.
        self.config.controls.retain(|c| !c.name.is_empty());
    }

    fn check_duplicate_names(&mut self) {
        let mut seen: BTreeMap<String, (String, u32)> = BTreeMap::new();
        let names = std::mem::take(&mut self.names);
        for named in &names {
            if let Some((tag, line)) = seen.get(&named.name) {
                let message = format!(
                    "<{}> attribute name: \"{}\" is already the name of <{tag}> on line {line}",
                    named.tag, named.name
                );
                self.error("duplicate_name", named.at, message);
            } else {
                let line = text_pos(self.text, named.at).0;
                seen.insert(named.name.clone(), (named.tag.clone(), line));
            }
        }
        self.names = names;
    }

    fn resolve_to_names(&mut self) {
        let raw_to_names = std::mem::take(&mut self.raw_to_names);
        for (index, raw) in raw_to_names.into_iter().enumerate() {
            let control = &self.config.controls[index];
            let (kind, name) = (control.kind, control.name.clone());
            let control_at = (control.line, control.column);
            let tag = kind.tag();
            let (targets, at) = match raw {
                Some((raw, attr_at)) => {
                    let targets: Vec<String> = raw
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if targets.is_empty() {
                        self.error(
                            "bad_attribute_value",
                            attr_at,
                            format!("<{tag} name=\"{name}\"> attribute toName is empty"),
                        );
                    }
                    (targets, text_pos(self.text, attr_at))
                }
                // Like Label Studio, a lone object tag is the implied target.
                None => match self.config.objects.as_slice() {
                    [only] => (vec![only.name.clone()], control_at),
                    _ => {
                        self.push(
                            "missing_attribute",
                            Severity::Error,
                            control_at,
                            format!(
                                "<{tag} name=\"{name}\"> needs a toName attribute \
                                 naming the object tag it annotates"
                            ),
                        );
                        continue;
                    }
                },
            };
            for target in &targets {
                // Label Studio before 1.9 ranked a Text's predictions with a
                // Ranker of another shape: kept, not shown.
                let legacy_ranker = kind == ControlKind::Ranker
                    && self
                        .config
                        .object(target)
                        .is_some_and(|o| o.kind != ObjectKind::List);
                if legacy_ranker {
                    self.push(
                        "unsupported_tag",
                        Severity::Warning,
                        at,
                        format!(
                            "<Ranker name=\"{name}\"> attribute toName: \"{target}\" is not a <List>; \
                             Label Studio's older Ranker is kept with its results, but not shown"
                        ),
                    );
                    continue;
                }
                if let Some((code, message)) = self.target_problem(kind, &name, target) {
                    self.push(code, Severity::Error, at, message);
                }
            }
            self.config.controls[index].to_names = targets;
        }
    }

    /// What is wrong with `target` as a `toName` of control `name`, if anything.
    fn target_problem(
        &self,
        kind: ControlKind,
        name: &str,
        target: &str,
    ) -> Option<(&'static str, String)> {
        let tag = kind.tag();
        if let Some(object) = self.config.object(target) {
            return (!kind.targets().contains(&object.kind)).then(|| {
                (
                    "incompatible_to_name",
                    format!(
                        "<{tag} name=\"{name}\"> attribute toName: <{:?} name=\"{target}\"> \
                         cannot be annotated with <{tag}>",
                        object.kind
                    ),
                )
            });
        }
        if self.config.unsupported_tag(target).is_some() {
            // Already warned about; Gloss cannot tell what fits it.
            return None;
        }
        if let Some(other) = self.config.controls.iter().find(|c| c.name == target) {
            return Some((
                "incompatible_to_name",
                format!(
                    "<{tag} name=\"{name}\"> attribute toName: \"{target}\" is the control \
                     <{}>, not an object tag",
                    other.kind.tag()
                ),
            ));
        }
        Some((
            "unknown_to_name",
            format!("<{tag} name=\"{name}\"> attribute toName: no tag is named \"{target}\""),
        ))
    }

    fn check_options(&mut self) {
        let mut hotkeys: BTreeMap<String, (String, u32)> = BTreeMap::new();
        let mut found = Vec::new();
        for (control, has_option_tags) in self.config.controls.iter().zip(&self.has_option_tags) {
            let Some(option_tag) = control.kind.option_tag() else {
                continue;
            };
            let tag = control.kind.tag();
            if !has_option_tags && control.labels_from.is_none() {
                found.push((
                    "empty_labels",
                    Severity::Error,
                    control.line,
                    control.column,
                    format!(
                        "<{tag} name=\"{}\"> has no <{option_tag}> children",
                        control.name
                    ),
                ));
            }
            let mut values: BTreeMap<(&[String], &str), u32> = BTreeMap::new();
            for label in &control.labels {
                // A taxonomy may repeat a value under another parent.
                let key = (label.path.as_slice(), label.value.as_str());
                if let Some(first) = values.get(&key) {
                    found.push((
                        "duplicate_label",
                        Severity::Warning,
                        label.line,
                        label.column,
                        format!(
                            "<{option_tag}> value: \"{}\" is already an option of <{tag} name=\"{}\"> on line {first}",
                            label.value, control.name
                        ),
                    ));
                } else {
                    values.insert(key, label.line);
                }
                // Hotkeys are global in Label Studio, whatever the control.
                let Some(hotkey) = label.hotkey.as_deref().map(str::to_ascii_lowercase) else {
                    continue;
                };
                if let Some((first_value, first_line)) = hotkeys.get(&hotkey) {
                    found.push((
                        "duplicate_hotkey",
                        Severity::Warning,
                        label.line,
                        label.column,
                        format!(
                            "<{option_tag} value=\"{}\"> attribute hotkey: \"{hotkey}\" is already the hotkey of \"{first_value}\" on line {first_line}",
                            label.value
                        ),
                    ));
                } else {
                    hotkeys.insert(hotkey, (label.value.clone(), label.line));
                }
            }
        }
        for control in &self.config.controls {
            let bad_max_rating = control.kind == ControlKind::Rating
                && control
                    .attributes
                    .get("maxRating")
                    .is_some_and(|v| v.trim().parse::<u32>().map_or(true, |n| n == 0));
            if bad_max_rating {
                found.push((
                    "bad_attribute_value",
                    Severity::Error,
                    control.line,
                    control.column,
                    format!(
                        "<Rating name=\"{}\"> attribute maxRating: must be a whole number from 1",
                        control.name
                    ),
                ));
            }
            if control.kind == ControlKind::Pairwise {
                if control.to_names.len() != 2 {
                    found.push((
                        "bad_attribute_value",
                        Severity::Error,
                        control.line,
                        control.column,
                        format!(
                            "<Pairwise name=\"{}\"> attribute toName: must name exactly two objects, such as toName=\"a,b\" (it names {})",
                            control.name,
                            control.to_names.len()
                        ),
                    ));
                }
                let bad_strength = control.attributes.get("strength").is_some_and(|v| {
                    v.trim()
                        .parse::<u32>()
                        .map_or(true, |n| !(2..=10).contains(&n))
                });
                if bad_strength {
                    found.push((
                        "bad_attribute_value",
                        Severity::Error,
                        control.line,
                        control.column,
                        format!(
                            "<Pairwise name=\"{}\"> attribute strength: must be a whole number from 2 to 10 (the steps of the strength scale)",
                            control.name
                        ),
                    ));
                }
            }
            if control.kind == ControlKind::Ranker
                && control.buckets.iter().filter(|b| b.default).count() > 1
            {
                found.push((
                    "bad_attribute_value",
                    Severity::Error,
                    control.line,
                    control.column,
                    format!(
                        "<Ranker name=\"{}\"> has more than one <Bucket default=\"true\">",
                        control.name
                    ),
                ));
            }
            if control.per_item()
                && !control.to_names.iter().all(|n| {
                    self.config
                        .object(n)
                        .is_some_and(|o| o.kind == ObjectKind::List)
                })
            {
                // Label Studio's perItem also rates the pages of multi-image
                // objects, which Gloss does not show one by one.
                found.push((
                    "ignored_attribute",
                    Severity::Warning,
                    control.line,
                    control.column,
                    format!(
                        "<{} name=\"{}\"> attribute perItem: Gloss rates the items of a <List> only; elsewhere it is ignored",
                        control.kind.tag(),
                        control.name
                    ),
                ));
            }
            if control.kind == ControlKind::VideoKeyPointLabels && control.skeleton.is_none() {
                found.push((
                    "missing_skeleton",
                    Severity::Error,
                    control.line,
                    control.column,
                    format!(
                        "<VideoKeyPointLabels name=\"{}\"> needs a <Skeleton value=\"…\"> naming how its joints (its labels) connect",
                        control.name
                    ),
                ));
            }
            let Some(skeleton) = &control.skeleton else {
                continue;
            };
            // Labels from task data are unknown until a task is shown.
            if control.labels_from.is_some() {
                continue;
            }
            for [from, to] in &skeleton.edges {
                for end in [from, to] {
                    if !control.labels.iter().any(|l| &l.value == end) {
                        found.push((
                            "unknown_label",
                            Severity::Error,
                            skeleton.line,
                            skeleton.column,
                            format!(
                                "<Edge from=\"{from}\" to=\"{to}\">: \"{end}\" is not a <Label> of <{} name=\"{}\">",
                                control.kind.tag(),
                                control.name
                            ),
                        ));
                    }
                }
                if from == to {
                    found.push((
                        "bad_attribute_value",
                        Severity::Error,
                        skeleton.line,
                        skeleton.column,
                        format!("<Edge from=\"{from}\" to=\"{to}\"> joins a label to itself"),
                    ));
                }
            }
        }
        for (code, severity, line, column, message) in found {
            self.push(code, severity, (line, column), message);
        }
    }
}

/// Every attribute as written, for the typed model's `attributes` maps.
fn attributes(node: XmlNode) -> BTreeMap<String, String> {
    node.attributes()
        .map(|a| (a.name().to_owned(), a.value().to_owned()))
        .collect()
}
