//! Who may read which interactions. The rule is the one the API applies to
//! one interaction (`/v1/interactions/{id}`, `/v1/chats/{id}`,
//! `/v1/emails/{id}`), given here once in Rust ([`Reader::sees`]) for an
//! interaction in hand and once in SQL ([`Reader::condition`]) for the
//! lists read from the database (contact history, search), so that pages
//! count only what the reader may see.

use parley_core::Channel;
use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::Backend;
use crate::channel;
use crate::interactions::Interaction;

/// Who is reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// Supervisors and administrators: every interaction, every coaching
    /// message.
    Supervisor,
    /// Agent `id`: the interactions it owns, takes part in, has parked in
    /// its workbin, or (per channel) wrote in; the coaching messages
    /// written while it was in the chat.
    Agent(String),
    /// A customer, or a credential of no account below supervisor (an
    /// agent-role API key): no interaction through lists, no coaching.
    Outsider,
}

impl Reader {
    /// Whether the reader sees `interaction` as an owner, a party or the
    /// owner of the workbin it is parked in (or as a supervisor). The
    /// channels' own grounds ([`channel::ChannelStore::readers`]) are
    /// checked by the database only.
    pub fn sees(&self, interaction: &Interaction) -> bool {
        match self {
            Reader::Supervisor => true,
            Reader::Agent(me) => {
                interaction.owner.as_deref() == Some(me)
                    || interaction.parties.iter().any(|p| p == me)
                    || interaction.workbin_owner.as_deref() == Some(me)
            }
            Reader::Outsider => false,
        }
    }

    /// The agent reading, if an agent is.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Reader::Agent(me) => Some(me),
            Reader::Supervisor | Reader::Outsider => None,
        }
    }

    /// `query` with the agent reading bound, as the parameter
    /// [`Reader::condition`] names; unchanged for supervisors and
    /// outsiders, whose condition binds nothing.
    pub(crate) fn bound<'q>(
        &'q self,
        query: Query<'q, Any, AnyArguments>,
    ) -> Query<'q, Any, AnyArguments> {
        match self.agent() {
            Some(me) => query.bind(me),
            None => query,
        }
    }

    /// A SQL condition on a row of `interactions` that holds when the
    /// reader sees it: [`Reader::sees`], and the channels' grounds. It
    /// binds the reader as `$n` (`$n` is the agent's id; nothing is bound
    /// for supervisors and outsiders, whose condition is a constant).
    pub fn condition(&self, backend: Backend, n: usize) -> String {
        match self {
            Reader::Supervisor => "TRUE".into(),
            Reader::Outsider => "FALSE".into(),
            Reader::Agent(_) => {
                let me = format!("${n}");
                let mut grounds = vec![
                    format!("owner = {me}"),
                    format!("workbin_owner = {me}"),
                    json_list_contains(backend, "parties", &me),
                ];
                grounds.extend(
                    Channel::ALL
                        .iter()
                        .filter_map(|c| channel::of(*c).readers())
                        .map(|ids| format!("id IN ({})", ids.replace("$agent", &me))),
                );
                format!("({})", grounds.join(" OR "))
            }
        }
    }
}

/// A SQL condition: the JSON list of strings in `column` holds the string
/// bound as `param`.
pub(crate) fn json_list_contains(backend: Backend, column: &str, param: &str) -> String {
    match backend {
        Backend::Sqlite => {
            format!("EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {param})")
        }
        Backend::Postgres => format!("jsonb_exists(CAST({column} AS JSONB), {param})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisors_and_outsiders_need_no_binding() {
        assert_eq!(Reader::Supervisor.condition(Backend::Sqlite, 3), "TRUE");
        assert_eq!(Reader::Outsider.condition(Backend::Postgres, 3), "FALSE");
    }

    #[test]
    fn an_agents_condition_binds_it_in_every_ground() {
        let condition = Reader::Agent("ann".into()).condition(Backend::Postgres, 2);
        assert!(condition.contains("owner = $2"), "{condition}");
        assert!(condition.contains("workbin_owner = $2"), "{condition}");
        assert!(
            condition.contains("jsonb_exists(CAST(parties AS JSONB), $2)"),
            "{condition}"
        );
        assert!(!condition.contains("$agent"), "{condition}");
    }
}
