//! The business-process file and its validation.
//!
//! ```toml
//! [[process]]
//! name = "support"
//! media-types = ["chat", "email"]
//!
//! [[process.queue]]
//! name = "inbound"
//! router = "skills-router"              # a loaded router plugin
//! fallback = { group = "support" }      # if the router fails: route to a group,
//!                                       # { queue = "..." } move, or "hold"
//!
//! [[process.view]]
//! name = "vip-first"
//! queue = "inbound"
//! order = "priority"                    # priority (then age) | age | { attribute = "key" }
//! filter = { key = "segment", equals = "vip" }
//!
//! [[process.workbin]]
//! name = "follow-up"
//! scope = "agent"                       # agent | group
//! ```

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use parley_store::{Interaction, attached};

/// The whole file: every business process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessFile {
    #[serde(default, rename = "process")]
    pub processes: Vec<Process>,
}

/// A business process: queues, views and workbins for some media types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Process {
    /// Name, unique in the file.
    pub name: String,
    /// Media types it handles.
    #[serde(default)]
    pub media_types: Vec<String>,
    #[serde(default, rename(deserialize = "queue", serialize = "queues"))]
    pub queues: Vec<Queue>,
    #[serde(default, rename(deserialize = "view", serialize = "views"))]
    pub views: Vec<View>,
    #[serde(default, rename(deserialize = "workbin", serialize = "workbins"))]
    pub workbins: Vec<Workbin>,
}

/// A queue and the strategy that routes out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Queue {
    /// Name, unique across processes.
    pub name: String,
    /// The router plugin.
    pub router: String,
    /// What happens when the router fails.
    #[serde(default)]
    pub fallback: Fallback,
}

/// What to do with an interaction when its queue's router fails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = QueueFallback)]
pub enum Fallback {
    /// Keep it queued and ask the router again later.
    #[default]
    Hold,
    /// Route to any agent of a group.
    Group(String),
    /// Move it to another queue.
    Queue(String),
}

/// An ordered, optionally filtered, window on a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct View {
    /// Name, unique across processes.
    pub name: String,
    /// The queue it shows.
    pub queue: String,
    #[serde(default)]
    pub order: Order,
    /// Segmentation: only interactions whose attribute has this value.
    #[serde(default)]
    pub filter: Option<Filter>,
}

/// How a view is ordered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = ViewOrder)]
pub enum Order {
    /// Higher priority first, then older.
    #[default]
    Priority,
    /// Older first.
    Age,
    /// By the value of an attached-data key.
    Attribute(String),
}

/// A segmentation filter on attached data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[schema(as = ViewFilter)]
pub struct Filter {
    /// Attribute key.
    pub key: String,
    /// Value it must have.
    pub equals: String,
}

/// A workbin: interactions parked for later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Workbin {
    /// Name, unique across processes.
    pub name: String,
    /// Whose it is.
    #[serde(default)]
    pub scope: WorkbinScope,
}

/// Whose workbin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkbinScope {
    /// One per agent.
    #[default]
    Agent,
    /// One per agent group.
    Group,
}

/// Parses a process file; errors name the line and field.
pub fn parse(text: &str) -> Result<ProcessFile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn unique<'a>(
    what: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<BTreeSet<&'a str>, String> {
    let mut seen = BTreeSet::new();
    for name in names {
        if name.trim().is_empty() {
            return Err(format!("a {what} has an empty name"));
        }
        if !seen.insert(name) {
            return Err(format!("{what} `{name}` is defined twice"));
        }
    }
    Ok(seen)
}

impl View {
    /// Whether this view shows `interaction` (queued in its queue, and
    /// with the filter's value).
    pub fn shows(&self, interaction: &Interaction) -> bool {
        interaction.queue.as_deref() == Some(self.queue.as_str())
            && self.filter.as_ref().is_none_or(|f| {
                let list = attached::parse(&interaction.attached).unwrap_or_default();
                attached::text(&list, &f.key) == Some(f.equals.as_str())
            })
    }
}

impl ProcessFile {
    /// Whether some view shows `interaction`: agents may pull it.
    pub fn in_a_view(&self, interaction: &Interaction) -> bool {
        self.processes
            .iter()
            .flat_map(|p| &p.views)
            .any(|v| v.shows(interaction))
    }

    /// Every queue, in file order.
    pub fn queues(&self) -> impl Iterator<Item = &Queue> {
        self.processes.iter().flat_map(|p| &p.queues)
    }

    /// The queue named `name`, with the process it belongs to.
    pub fn queue(&self, name: &str) -> Option<(&Process, &Queue)> {
        self.processes
            .iter()
            .find_map(|p| p.queues.iter().find(|q| q.name == name).map(|q| (p, q)))
    }

    /// The view named `name`.
    pub fn view(&self, name: &str) -> Option<&View> {
        self.processes
            .iter()
            .flat_map(|p| &p.views)
            .find(|v| v.name == name)
    }

    /// The workbin named `name`.
    pub fn workbin(&self, name: &str) -> Option<&Workbin> {
        self.processes
            .iter()
            .flat_map(|p| &p.workbins)
            .find(|w| w.name == name)
    }

    /// Checks names, references and that fallbacks cannot loop. `is_router`
    /// says whether a name is a loaded router plugin.
    pub fn validate(&self, is_router: impl Fn(&str) -> bool) -> Result<(), String> {
        unique("process", self.processes.iter().map(|p| p.name.as_str()))?;
        let queues: Vec<&Queue> = self.queues().collect();
        let names = unique("queue", queues.iter().map(|q| q.name.as_str()))?;
        unique(
            "view",
            self.processes
                .iter()
                .flat_map(|p| &p.views)
                .map(|v| v.name.as_str()),
        )?;
        unique(
            "workbin",
            self.processes
                .iter()
                .flat_map(|p| &p.workbins)
                .map(|w| w.name.as_str()),
        )?;
        for queue in &queues {
            if !is_router(&queue.router) {
                return Err(format!(
                    "queue `{}` uses router `{}`, which is not a loaded router plugin",
                    queue.name, queue.router
                ));
            }
            if let Fallback::Queue(target) = &queue.fallback
                && !names.contains(target.as_str())
            {
                return Err(format!(
                    "queue `{}` falls back to missing queue `{target}`",
                    queue.name
                ));
            }
        }
        for view in self.processes.iter().flat_map(|p| &p.views) {
            if !names.contains(view.queue.as_str()) {
                return Err(format!(
                    "view `{}` shows missing queue `{}`",
                    view.name, view.queue
                ));
            }
        }
        check_fallback_cycles(&queues)
    }
}

/// Refuses fallbacks that move interactions around in a circle.
fn check_fallback_cycles(queues: &[&Queue]) -> Result<(), String> {
    let next: BTreeMap<&str, &str> = queues
        .iter()
        .filter_map(|q| match &q.fallback {
            Fallback::Queue(target) => Some((q.name.as_str(), target.as_str())),
            _ => None,
        })
        .collect();
    for start in next.keys() {
        let mut path = vec![*start];
        let mut at = *start;
        while let Some(target) = next.get(at) {
            if path.contains(target) {
                path.push(target);
                return Err(format!(
                    "queue fallbacks form a cycle: {}",
                    path.join(" → ")
                ));
            }
            path.push(target);
            at = target;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routers(name: &str) -> bool {
        name == "skills-router"
    }

    const VALID: &str = r#"
[[process]]
name = "support"
media-types = ["chat"]
[[process.queue]]
name = "inbound"
router = "skills-router"
fallback = { queue = "overflow" }
[[process.queue]]
name = "overflow"
router = "skills-router"
fallback = { group = "support" }
[[process.view]]
name = "vip"
queue = "inbound"
order = { attribute = "value" }
filter = { key = "segment", equals = "vip" }
[[process.workbin]]
name = "later"
"#;

    #[test]
    fn a_valid_file_parses_and_validates() {
        let file = parse(VALID).unwrap();
        file.validate(routers).unwrap();
        let process = &file.processes[0];
        assert_eq!(
            process.queues[1].fallback,
            Fallback::Group("support".into())
        );
        assert_eq!(process.views[0].order, Order::Attribute("value".into()));
        assert_eq!(process.workbins[0].scope, WorkbinScope::Agent);
    }

    #[test]
    fn unknown_routers_and_missing_queues_are_named() {
        let file = parse(&VALID.replace(
            "router = \"skills-router\"\nfallback = { group",
            "router = \"nope\"\nfallback = { group",
        ))
        .unwrap();
        assert_eq!(
            file.validate(routers).unwrap_err(),
            "queue `overflow` uses router `nope`, which is not a loaded router plugin"
        );
        let file =
            parse(&VALID.replace("queue = \"inbound\"\norder", "queue = \"outbound\"\norder"))
                .unwrap();
        assert_eq!(
            file.validate(routers).unwrap_err(),
            "view `vip` shows missing queue `outbound`"
        );
    }

    #[test]
    fn fallback_cycles_are_refused() {
        let file = parse(&VALID.replace(
            "fallback = { group = \"support\" }",
            "fallback = { queue = \"inbound\" }",
        ))
        .unwrap();
        assert_eq!(
            file.validate(routers).unwrap_err(),
            "queue fallbacks form a cycle: inbound → overflow → inbound"
        );
    }

    #[test]
    fn duplicates_and_unknown_fields_are_refused() {
        let twice = format!("{VALID}\n[[process]]\nname = \"support\"\n");
        assert_eq!(
            parse(&twice).unwrap().validate(routers).unwrap_err(),
            "process `support` is defined twice"
        );
        let typo = parse(&VALID.replace("media-types", "media-type")).unwrap_err();
        assert!(typo.contains("media-type"), "{typo}");
    }
}
