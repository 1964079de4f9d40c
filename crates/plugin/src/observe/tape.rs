//! The host calls a recorded plugin call makes whose answers are not pure
//! (`clock.now`, `kv.get`, `plugins.screen`, `plugins.screen-interaction`),
//! taped with their answers so a replay can give the same answers.
//!
//! Taping is scoped to one task and one plugin: the host functions report
//! every such call with [`tape`], which keeps it only while [`taped`] runs
//! a call of that plugin in the same task (a screener it calls, in the same
//! task, is not taped).

use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::future::Future;

use crate::cases::mocks::RecordedCall;

struct Tape {
    plugin: String,
    calls: Vec<RecordedCall>,
}

tokio::task_local! {
    static TAPE: RefCell<Tape>;
}

/// Runs `call` (a call of `plugin`) with the tape on; returns its output
/// and the taped host calls, in order.
pub async fn taped<F: Future>(plugin: &str, call: F) -> (F::Output, Vec<RecordedCall>) {
    let tape = RefCell::new(Tape {
        plugin: plugin.to_string(),
        calls: Vec::new(),
    });
    TAPE.scope(tape, async {
        let output = call.await;
        let calls = TAPE.with(|t| std::mem::take(&mut t.borrow_mut().calls));
        (output, calls)
    })
    .await
}

/// Tapes a host call of `plugin`, if a call of it is being taped here.
/// `answer` builds the recorded arguments and result only then.
pub fn tape(plugin: &str, function: &str, answer: impl FnOnce() -> (Map<String, Json>, Json)) {
    let _ = TAPE.try_with(|t| {
        let mut t = t.borrow_mut();
        if t.plugin == plugin {
            let (params, result) = answer();
            t.calls.push(RecordedCall {
                function: function.to_string(),
                params,
                result,
            });
        }
    });
}
