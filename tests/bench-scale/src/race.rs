//! Deliberate duplicates: the same new person sent at the same moment to two
//! intake replicas (or twice to one), pair after pair, for a while. Two
//! client threads, one per target, each on its own keep-alive connection,
//! are handed each pair's body together and answer before the next pair.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crm_tests::Host;
use crm_tests::load::Samples;

use crate::workload::newcomer;

/// Every raced request, and how each pair came out.
pub struct Raced {
    /// Request `2k + side` is pair `k` sent to `targets[side]`.
    pub samples: Samples,
    /// Pairs answered with one 201 and one 409 (the duplicate found).
    pub one_created: usize,
    /// Every other pair's two statuses.
    pub others: Vec<[u16; 2]>,
}

impl Raced {
    pub fn pairs(&self) -> usize {
        self.one_created + self.others.len()
    }
}

/// Races `newcomer(series, k)` to both `targets` for pair k = 0, 1, … for
/// `duration`, with the staff `token`.
pub fn race(targets: [&Host; 2], token: &str, series: u64, duration: Duration) -> Raced {
    let (answers, answered) = mpsc::channel::<(usize, u16, f64)>();
    let started = Instant::now();
    let mut requests = Vec::new();
    let (mut one_created, mut others) = (0, Vec::new());
    std::thread::scope(|s| {
        let bodies: Vec<mpsc::Sender<String>> = targets
            .iter()
            .enumerate()
            .map(|(side, host)| {
                let (send, bodies) = mpsc::channel::<String>();
                let answers = answers.clone();
                s.spawn(move || {
                    let caller = host.as_caller(token).purpose("case-management");
                    for body in bodies {
                        let sent = Instant::now();
                        let reply = caller.send("POST", "/api/contacts", Some(&body));
                        let ms = sent.elapsed().as_secs_f64() * 1000.0;
                        answers.send((side, reply.status, ms)).expect("the racer");
                    }
                });
                send
            })
            .collect();
        let mut pair = 0u64;
        while started.elapsed() < duration {
            let body = newcomer(series, pair).to_string();
            for to in &bodies {
                to.send(body.clone()).expect("a racer");
            }
            let mut statuses = [0u16; 2];
            for _ in 0..2 {
                let (side, status, ms) = answered.recv().expect("a racer's answer");
                statuses[side] = status;
                requests.push((2 * pair + side as u64, status, ms));
            }
            let mut sorted = statuses;
            sorted.sort_unstable();
            if sorted == [201, 409] {
                one_created += 1;
            } else {
                others.push(statuses);
            }
            pair += 1;
        }
        // Dropping the senders ends the racers.
        drop(bodies);
    });
    Raced {
        samples: Samples {
            requests,
            elapsed_secs: started.elapsed().as_secs_f64(),
        },
        one_created,
        others,
    }
}
