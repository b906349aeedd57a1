//! Work a stage leaves for later in its request (`Exchange::defer`): the
//! `Answered` phase runs when the backend section has ended, before
//! outbound, the `End` phase after the pipeline; each in the order left;
//! a pipeline that ends early runs its `End` work and drops the rest.

use std::sync::{Arc, Mutex};

use sluice_engine::runtime::{
    Block, BoxFuture, Deferred, Entry, Exchange, Flow, Phase, Pipeline, Run, Stage,
};
use sluice_engine::schema::Scope;

use crate::fixture::{Stub, exchange, run};

type Log = Arc<Mutex<Vec<String>>>;

/// Notes that it ran; with `defers`, leaves a note for each phase.
#[derive(Debug)]
struct Leaves {
    name: &'static str,
    defers: bool,
    flow: Flow,
    log: Log,
}

struct Note(String, Log);

impl Deferred for Note {
    fn run(self: Box<Self>, _: &mut Exchange) -> BoxFuture<'_, ()> {
        self.1.lock().unwrap().push(self.0);
        Box::pin(std::future::ready(()))
    }
}

impl Stage for Leaves {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        self.log.lock().unwrap().push(self.name.to_owned());
        if self.defers {
            for (phase, tag) in [(Phase::End, "end"), (Phase::Answered, "answered")] {
                let note = Note(format!("{}:{tag}", self.name), Arc::clone(&self.log));
                x.defer(phase, Box::new(note));
            }
        }
        Run::Done(Ok(self.flow))
    }
}

fn block(stages: Vec<Leaves>) -> Block {
    Block(
        stages
            .into_iter()
            .map(|s| Entry {
                name: s.name.to_owned(),
                label: Arc::from(format!("{}[1]", s.name)),
                id: String::new(),
                scope: Scope::Api,
                stage: Box::new(s),
            })
            .collect(),
    )
}

fn leaves(name: &'static str, defers: bool, flow: Flow, log: &Log) -> Leaves {
    Leaves {
        name,
        defers,
        flow,
        log: Arc::clone(log),
    }
}

fn ran(p: &Pipeline, log: &Log) -> Vec<String> {
    let mut x = exchange(Stub::status(200, ""), &[], "");
    run(p, &mut x);
    log.lock().unwrap().clone()
}

#[test]
fn answered_work_runs_before_outbound_and_end_work_after_it_in_the_order_left() {
    let log = Log::default();
    let p = Pipeline {
        inbound: block(vec![
            leaves("a", true, Flow::Next, &log),
            leaves("b", true, Flow::Next, &log),
        ]),
        backend: block(vec![leaves("backend", false, Flow::Next, &log)]),
        outbound: block(vec![leaves("outbound", false, Flow::Next, &log)]),
        ..Pipeline::default()
    };
    assert_eq!(
        ran(&p, &log),
        [
            "a",
            "b",
            "backend",
            "a:answered",
            "b:answered",
            "outbound",
            "a:end",
            "b:end"
        ]
    );
}

#[test]
fn a_pipeline_ended_before_the_backend_drops_answered_work_and_runs_end_work() {
    let log = Log::default();
    let p = Pipeline {
        inbound: block(vec![leaves("a", true, Flow::End, &log)]),
        backend: block(vec![leaves("backend", false, Flow::Next, &log)]),
        outbound: block(vec![leaves("outbound", false, Flow::Next, &log)]),
        ..Pipeline::default()
    };
    assert_eq!(ran(&p, &log), ["a", "a:end"]);
}
