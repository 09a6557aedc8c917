//! Billing the calls of a session: a conversation re-sent on every turn,
//! and the prompt cache that follows it (issue 14, first part).
//!
//! **Why a module of its own.** A session's cost is mostly its context
//! re-sent turn after turn; what the platform bills for it depends on where
//! cache checkpoints sit, how long each model's copy stays warm, and what a
//! model switch or a compaction throws away. Both engines (exact mode turn
//! by turn, the fast path on sampled sessions) must bill a turn the same
//! way, so the rule lives here, as plain functions of token counts and
//! times, and is tested against hand-computed figures.
//!
//! The engines drive it turn by turn from `sim::session_run`.
//!
//! **Where checkpoints go.** A call's input is the fixed prefix `P`
//! (system prompt and tools, shared by every session of the workload), then
//! the conversation so far, then the newly appended message. Each call
//! places two checkpoints:
//! 1. at the end of the prefix, so other sessions can read it;
//! 2. at the end of the whole input, so the next turn reads everything but
//!    what it appends (and the previous answer, which the cache never saw).
//!
//! The next turn needs no checkpoint of its own where the previous one
//! ended: the platform looks back from a request's checkpoint for the
//! longest cached prefix (Anthropic documents 20 content blocks; a turn
//! adds two or three). A checkpoint is placed only where the cached span
//! reaches the model's minimum (`CacheRules::min_tokens`; Bedrock: "you can
//! only create a cache checkpoint if your total prompt prefix meets the
//! minimum number of tokens"), and no call places more than
//! `CacheRules::max_checkpoints` (Bedrock: 4); with only one allowed, the
//! prefix's goes, so the prefix is no longer shared across sessions.
//! Nothing beyond `CacheRules::max_cached_tokens` is cached (Bedrock's Nova
//! models cache at most 32k tokens of a prompt).
//!
//! **What a call is billed.** Read: the longest warm checkpoint the call
//! re-sends (this conversation on this model, used within the TTL, else
//! the prefix if the caller says other sessions keep it warm). Write: from
//! there to the call's last checkpoint. Fresh input: the rest. A read or a
//! write refreshes the TTL of what it touched. A model switch needs nothing
//! special: the new model simply has no warm copy of this conversation (or
//! an old one, if it served an earlier turn within the TTL, and that copy is
//! still a prefix of the context). A compaction replaces the history, so
//! every model's copy of the conversation is gone ([`SessionCache::reset`]).

/// How one model caches, for one workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheRules {
    /// The model caches at all (and the workload asks it to).
    pub enabled: bool,
    /// Smallest cached span a checkpoint may end (tokens from the start).
    pub min_tokens: u64,
    /// Most checkpoints one request may carry.
    pub max_checkpoints: u32,
    /// Most tokens of one prompt the model caches.
    pub max_cached_tokens: u64,
    /// Seconds a cached span stays warm after it was last read or written.
    pub ttl_s: f64,
}

/// One call's input tokens by how they are billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputSplit {
    /// Billed at the input rate.
    pub fresh: u64,
    /// Written to the cache (the write rate of the workload's TTL).
    pub write: u64,
    /// Read from the cache.
    pub read: u64,
    /// The prefix's checkpoint was read or written: the caller refreshes
    /// its record of when the prefix was last sent to this model.
    pub touched_prefix: bool,
    /// Tokens of `write` that would have been read had the caller said the
    /// prefix was warm (the prefix, when this call reads no copy of the
    /// conversation and places the prefix's checkpoint): how the fast path
    /// leaves cross-session prefix hits to its closed form.
    pub prefix_if_warm: u64,
}

impl InputSplit {
    pub fn total(&self) -> u64 {
        self.fresh + self.write + self.read
    }
}

/// One model's warm copy of the conversation: the checkpoint it ends at
/// (tokens from the start of the input) and when it was last used.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Warm {
    end: u64,
    at: f64,
}

/// Every model's cache of one session's conversation.
#[derive(Debug, Clone, Default)]
pub struct SessionCache {
    warm: Vec<Option<Warm>>,
}

impl SessionCache {
    pub fn new(n_models: usize) -> SessionCache {
        SessionCache {
            warm: vec![None; n_models],
        }
    }

    /// The history was replaced (compaction): no model's copy of the
    /// conversation matches it any more.
    pub fn reset(&mut self) {
        self.warm.iter_mut().for_each(|w| *w = None);
    }

    /// Bills one call to `model` at `time_s` whose input is `input` tokens,
    /// the first `prefix` of them the workload's fixed prefix, which other
    /// sessions keep warm on this model iff `prefix_warm` (the caller's
    /// record, shared across sessions). Updates this session's cache.
    pub fn call(
        &mut self,
        model: usize,
        rules: &CacheRules,
        time_s: f64,
        prefix: u64,
        input: u64,
        prefix_warm: bool,
    ) -> InputSplit {
        if !rules.enabled {
            return InputSplit {
                fresh: input,
                ..InputSplit::default()
            };
        }
        let prefix = prefix.min(input);
        let cap = input.min(rules.max_cached_tokens);
        let placeable = |end: u64| end >= rules.min_tokens && end <= cap && end > 0;
        // What this call can read: the conversation's copy on this model
        // (found by the platform's look-back from this call's last
        // checkpoint), else the prefix, through its own checkpoint.
        let conversation = self.warm[model]
            .filter(|w| time_s - w.at <= rules.ttl_s && w.end <= cap)
            .map(|w| w.end);
        let prefix_point = placeable(prefix).then_some(prefix);
        // Checkpoints: the prefix's and the end of the input; when the
        // model allows fewer, the prefix's goes first.
        let end_point = (placeable(cap) && prefix_point != Some(cap)).then_some(cap);
        let allowed = rules.max_checkpoints as usize;
        let prefix_placed = prefix_point.is_some() && allowed > usize::from(end_point.is_some());
        let end_placed = end_point.filter(|_| allowed >= 1);
        let read = match conversation {
            Some(end) if prefix_placed || end_placed.is_some() => end,
            _ if prefix_warm && prefix_placed => prefix,
            _ => 0,
        };
        let last = end_placed
            .or(prefix_placed.then_some(prefix))
            .unwrap_or(0)
            .max(read);
        let write = last - read;
        let touched_prefix = prefix_placed;
        let prefix_if_warm = if read == 0 && prefix_placed {
            prefix
        } else {
            0
        };
        if last > 0 {
            self.warm[model] = Some(Warm {
                end: last,
                at: time_s,
            });
        }
        InputSplit {
            fresh: input - last,
            write,
            read,
            touched_prefix,
            prefix_if_warm,
        }
    }
}

/// One turn of a session as the engines will draw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turn {
    /// Tokens the turn appends to the conversation (user message or tool result).
    pub appended: u64,
    pub output: u64,
    /// Seconds since the previous turn's call (0 for the first turn).
    pub gap_s: f64,
    /// The model that answers it.
    pub model: usize,
}

/// Optional context compaction: before a turn, when the context (prefix
/// and history) has passed `threshold` tokens, `model` summarises the
/// history into `summary` tokens, which replace it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compaction {
    pub threshold: u64,
    pub model: usize,
    pub summary: u64,
}

/// What one call of a session is billed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionCall {
    pub model: usize,
    /// A summariser call (compaction), not a turn.
    pub summary: bool,
    pub input: InputSplit,
    pub output: u64,
    pub time_s: f64,
}

/// Bills every call of one session whose first turn is at time 0, with
/// `rules[m]` model `m`'s caching and `prefix_warm(m, t)` whether other
/// sessions keep the prefix warm on model `m` at time `t`.
pub fn bill_session(
    turns: &[Turn],
    prefix: u64,
    rules: &[CacheRules],
    compaction: Option<Compaction>,
    mut prefix_warm: impl FnMut(usize, f64) -> bool,
) -> Vec<SessionCall> {
    let mut cache = SessionCache::new(rules.len());
    let mut calls = Vec::with_capacity(turns.len());
    let mut history = 0u64;
    let mut t = 0.0;
    for turn in turns {
        t += turn.gap_s;
        if let Some(c) = compaction
            && prefix + history > c.threshold
        {
            let input = prefix + history;
            let warm = prefix_warm(c.model, t);
            let split = cache.call(c.model, &rules[c.model], t, prefix, input, warm);
            calls.push(SessionCall {
                model: c.model,
                summary: true,
                input: split,
                output: c.summary,
                time_s: t,
            });
            history = c.summary;
            cache.reset();
        }
        let input = prefix + history + turn.appended;
        let warm = prefix_warm(turn.model, t);
        let split = cache.call(turn.model, &rules[turn.model], t, prefix, input, warm);
        calls.push(SessionCall {
            model: turn.model,
            summary: false,
            input: split,
            output: turn.output,
            time_s: t,
        });
        history += turn.appended + turn.output;
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Claude-like: 1,024-token minimum, 4 checkpoints, 5-minute TTL.
    const CLAUDE: CacheRules = CacheRules {
        enabled: true,
        min_tokens: 1024,
        max_checkpoints: 4,
        max_cached_tokens: u64::MAX,
        ttl_s: 300.0,
    };

    fn turns(n: usize, a: u64, b: u64, gap: f64, model: usize) -> Vec<Turn> {
        (0..n)
            .map(|k| Turn {
                appended: a,
                output: b,
                gap_s: if k == 0 { 0.0 } else { gap },
                model,
            })
            .collect()
    }

    /// Rates per 1M tokens as a test sees them: input 3, write 3.75
    /// (1.25x), read 0.30 (0.1x), output 15.
    fn dollars(calls: &[SessionCall]) -> f64 {
        calls
            .iter()
            .map(|c| {
                (c.input.fresh as f64 * 3.0
                    + c.input.write as f64 * 3.75
                    + c.input.read as f64 * 0.30
                    + c.output as f64 * 15.0)
                    / 1e6
            })
            .sum()
    }

    #[test]
    fn without_caching_every_turn_resends_the_whole_context() {
        // Turn k re-sends P + (k-1)(a+b) + a: with P 2,000, a 500, b 300,
        // 4 turns: 2,500 + 3,300 + 4,100 + 4,900 = 14,800 input tokens and
        // 1,200 output: $0.0444 + $0.018 = $0.0624.
        let off = CacheRules {
            enabled: false,
            ..CLAUDE
        };
        let calls = bill_session(&turns(4, 500, 300, 30.0, 0), 2000, &[off], None, |_, _| {
            false
        });
        let inputs: Vec<u64> = calls.iter().map(|c| c.input.fresh).collect();
        assert_eq!(inputs, [2500, 3300, 4100, 4900]);
        assert!((dollars(&calls) - 0.0624).abs() < 1e-12);
    }

    #[test]
    fn each_turn_reads_the_previous_input_and_writes_what_is_new() {
        // P 2,000 cold; a 500, b 300. Turn 1 writes 2,500 (prefix and
        // message). Turn k > 1 reads the previous input, P + (k-2)(a+b) + a,
        // and writes the previous answer and the new message, b + a = 800.
        let calls = bill_session(
            &turns(4, 500, 300, 30.0, 0),
            2000,
            &[CLAUDE],
            None,
            |_, _| false,
        );
        let got: Vec<(u64, u64, u64)> = calls
            .iter()
            .map(|c| (c.input.fresh, c.input.write, c.input.read))
            .collect();
        assert_eq!(
            got,
            [(0, 2500, 0), (0, 800, 2500), (0, 800, 3300), (0, 800, 4100)]
        );
        // Writes 4,900 x 3.75 + reads 9,900 x 0.30 + output 1,200 x 15, per 1M.
        let expected = (4900.0 * 3.75 + 9900.0 * 0.30 + 1200.0 * 15.0) / 1e6;
        assert!((dollars(&calls) - expected).abs() < 1e-12);
        assert!((expected - 0.039345).abs() < 1e-12);
    }

    #[test]
    fn a_prefix_warm_from_other_sessions_is_read_on_the_first_turn() {
        let calls = bill_session(
            &turns(2, 500, 300, 30.0, 0),
            2000,
            &[CLAUDE],
            None,
            |_, _| true,
        );
        assert_eq!(
            (
                calls[0].input.read,
                calls[0].input.write,
                calls[0].input.fresh
            ),
            (2000, 500, 0)
        );
        assert!(calls[0].input.touched_prefix);
    }

    #[test]
    fn a_gap_longer_than_the_ttl_writes_the_context_again() {
        // Turn 3 comes 10 minutes after turn 2: the conversation's copy has
        // expired (5-minute TTL) and the prefix is cold, so turn 3 writes
        // its whole input, 2,000 + 2 x 800 + 500 = 4,100.
        let mut t = turns(3, 500, 300, 30.0, 0);
        t[2].gap_s = 600.0;
        let calls = bill_session(&t, 2000, &[CLAUDE], None, |_, _| false);
        assert_eq!(
            (calls[2].input.read, calls[2].input.write),
            (0, 4100),
            "{calls:?}"
        );
        // With the prefix kept warm by other sessions it reads the prefix
        // and writes the rest.
        let calls = bill_session(&t, 2000, &[CLAUDE], None, |_, _| true);
        assert_eq!((calls[2].input.read, calls[2].input.write), (2000, 2100));
    }

    #[test]
    fn a_model_switch_starts_the_new_model_cold_and_the_old_one_stays_warm() {
        // Turns on models 0, 0, 1, 0. Turn 3 (model 1) has no copy: it
        // writes its whole input, 2,000 + 1,600 + 500 = 4,100. Turn 4 (back
        // on model 0, 30 s later) still finds model 0's copy ending at turn
        // 2's input (2,000 + 800 + 500 = 3,300) and writes the rest:
        // 4,900 - 3,300 = 1,600.
        let mut t = turns(4, 500, 300, 30.0, 0);
        t[2].model = 1;
        let calls = bill_session(&t, 2000, &[CLAUDE, CLAUDE], None, |_, _| false);
        let got: Vec<(u64, u64)> = calls
            .iter()
            .map(|c| (c.input.read, c.input.write))
            .collect();
        assert_eq!(got, [(0, 2500), (2500, 800), (0, 4100), (3300, 1600)]);
    }

    #[test]
    fn compaction_summarises_and_restarts_the_cache() {
        // Threshold 4,000: before turn 4 the context is 2,000 + 3 x 800 =
        // 4,400 > 4,000, so a summariser call on model 1 reads nothing (its
        // cache is cold), writes the 4,400-token context and answers 600
        // tokens; the history becomes those 600, every copy is dropped, and
        // turn 4 (model 0) writes 2,000 + 600 + 500 = 3,100 (prefix cold).
        let c = Compaction {
            threshold: 4000,
            model: 1,
            summary: 600,
        };
        let calls = bill_session(
            &turns(5, 500, 300, 30.0, 0),
            2000,
            &[CLAUDE, CLAUDE],
            Some(c),
            |_, _| false,
        );
        assert_eq!(calls.len(), 6);
        assert!(calls[3].summary);
        assert_eq!(
            (calls[3].input.write, calls[3].output, calls[3].model),
            (4400, 600, 1)
        );
        assert_eq!((calls[4].input.read, calls[4].input.write), (0, 3100));
        // Turn 5 reads turn 4's input and writes b + a.
        assert_eq!((calls[5].input.read, calls[5].input.write), (3100, 800));
        let total_input: u64 = calls.iter().map(|c| c.input.total()).sum();
        assert_eq!(total_input, 2500 + 3300 + 4100 + 4400 + 3100 + 3900);
    }

    #[test]
    fn small_contexts_are_not_cached_and_large_ones_stop_at_the_cap() {
        // Below the 1,024-token minimum nothing is cached.
        let calls = bill_session(&turns(1, 300, 100, 0.0, 0), 500, &[CLAUDE], None, |_, _| {
            true
        });
        assert_eq!(calls[0].input.fresh, 800);
        // Nova-like: 32k cached at most. A 50,000-token context on its
        // second turn reads 32,000 and the rest is fresh input.
        let nova = CacheRules {
            max_cached_tokens: 32_000,
            min_tokens: 1000,
            ..CLAUDE
        };
        let calls = bill_session(
            &turns(2, 40_000, 500, 10.0, 0),
            2000,
            &[nova],
            None,
            |_, _| false,
        );
        assert_eq!(
            (calls[0].input.write, calls[0].input.fresh),
            (32_000, 10_000)
        );
        assert_eq!(
            (
                calls[1].input.read,
                calls[1].input.write,
                calls[1].input.fresh
            ),
            (32_000, 0, 50_500)
        );
    }

    #[test]
    fn one_checkpoint_per_request_keeps_only_the_end_of_the_input() {
        let one = CacheRules {
            max_checkpoints: 1,
            ..CLAUDE
        };
        // Only the end of the input: the conversation is still read turn
        // after turn, but the prefix is never shared, so even a prefix that
        // other sessions keep warm is written again on the first turn.
        let calls = bill_session(&turns(2, 500, 300, 30.0, 0), 2000, &[one], None, |_, _| {
            true
        });
        assert_eq!((calls[0].input.read, calls[0].input.write), (0, 2500));
        assert_eq!((calls[1].input.read, calls[1].input.write), (2500, 800));
        assert!(!calls[1].input.touched_prefix);
    }

    #[test]
    fn a_long_agent_session_matches_the_closed_form_cache_read_share() {
        // N turns, each appending a and answering b, every turn within the
        // TTL, prefix cold. Turn k's input is P + (k-1)(a+b) + a; it reads
        // the previous input, P + (k-2)(a+b) + a, for k >= 2. So
        //   input total = N(P + a) + (a+b) N(N-1)/2,
        //   read total  = (N-1)(P + a) + (a+b)(N-1)(N-2)/2,
        // and the cached/uncached cost ratio follows from the rates.
        let (n, p, a, b) = (40u64, 8000u64, 3000u64, 400u64);
        let calls = bill_session(
            &turns(n as usize, a, b, 8.0, 0),
            p,
            &[CLAUDE],
            None,
            |_, _| false,
        );
        let input: u64 = calls.iter().map(|c| c.input.total()).sum();
        let read: u64 = calls.iter().map(|c| c.input.read).sum();
        let nf = n as f64;
        let closed_input = nf * (p + a) as f64 + (a + b) as f64 * nf * (nf - 1.0) / 2.0;
        let closed_read =
            (nf - 1.0) * (p + a) as f64 + (a + b) as f64 * (nf - 1.0) * (nf - 2.0) / 2.0;
        assert_eq!(input as f64, closed_input);
        let share = read as f64 / input as f64;
        let closed_share = closed_read / closed_input;
        assert!(
            (share / closed_share - 1.0).abs() < 0.005,
            "{share} vs {closed_share}"
        );
        assert!(
            share > 0.9,
            "an agent loop's input is mostly cache reads: {share}"
        );
        // Cost with caching over cost without: (reads x 0.1 + writes x 1.25
        // + output x 5) / (input + output x 5) in units of the input rate.
        let write = closed_input - closed_read;
        let out = (nf * b as f64) * 5.0;
        let closed_ratio = (closed_read * 0.1 + write * 1.25 + out) / (closed_input + out);
        let off = CacheRules {
            enabled: false,
            ..CLAUDE
        };
        let uncached = bill_session(&turns(n as usize, a, b, 8.0, 0), p, &[off], None, |_, _| {
            false
        });
        let ratio = dollars(&calls) / dollars(&uncached);
        assert!(
            (ratio / closed_ratio - 1.0).abs() < 0.005,
            "{ratio} vs {closed_ratio}"
        );
    }
}
