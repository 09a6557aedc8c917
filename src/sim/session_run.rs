//! Sessions through the policies: each turn routed with the session's
//! state, its calls billed by `sim::session`'s cache rules and booked into
//! the ledger; exact mode's event queue and the fast path's sample.
//!
//! **One turn, every policy.** [`Runner::turn`] builds the turn's request
//! (the fixed prefix, the conversation so far and the new message; the
//! session's state), compacts first if the context has passed the
//! threshold, and for each policy routes it (`policy::route_turn`, which
//! applies the policy's session routing), bills each answer call through
//! that policy's copy of the session's cache, and books tokens, calls,
//! latency and the turn's outcome. Both engines call it, so they cannot
//! bill a turn differently; they differ only in how a call learns whether
//! the fixed prefix is warm from *other* sessions ([`PrefixWarmth`]).
//!
//! **Exact mode** keeps every live session in a queue ordered by the time
//! of its next turn and plays turns in time order across sessions, so the
//! record of when each prefix was last sent to each model is exact, as for
//! single requests. A session's turns are billed to the month it started
//! in.
//!
//! **The fast path** routes a sample of sessions. A call that would read
//! the prefix if another session kept it warm is booked as deferred, and
//! resolved per month in closed form: the prefix is warm on model `m` at a
//! session's start when some other session touched it within the TTL, and
//! each session keeps it warm while its calls to `m` come within a TTL of
//! each other, so with sessions starting at rate λ the number of sessions
//! keeping it warm at a given time is Poisson with mean λ·E[C_m], `C_m`
//! the seconds a session covers on `m` (the union of `[t, t + TTL]` over
//! its calls that touch the prefix). The month's hit probability is then
//! `fast::hit_probability` with `λT = λ·E[C_m]` (sessions per second per
//! prefix). A session's own earlier calls are known exactly and never
//! deferred.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::catalog::ModelId;
use crate::catalog::pricing::{Component, Mode};
use crate::policy::{CallKind, Context, Decision, SessionRouting, route_turn};
use crate::sim::book::Tables;
use crate::sim::instance::Instance;
use crate::sim::ledger::{Ledger, MAIN, OVERHEAD, SessionTally, TURN_ROWS};
use crate::sim::session::{InputSplit, SessionCache};
use crate::traffic::request::{Outcomes, Request, SessionState};
use crate::traffic::session::{SessionDraw, SessionInst};

/// How a call learns whether other sessions keep the fixed prefix warm.
pub(crate) trait PrefixWarmth {
    /// Whether the prefix is warm on `model` at `time_s` for policy `p`;
    /// `None` to leave it to a closed form (the call is booked deferred).
    fn warm(&mut self, p: usize, model: usize, time_s: f64) -> Option<bool>;
    /// A call of policy `p` read or wrote the prefix on `model` at `time_s`.
    fn touched(&mut self, p: usize, model: usize, time_s: f64);
}

/// One policy's view of one live session.
#[derive(Debug, Clone)]
pub(crate) struct PolicySession {
    cache: SessionCache,
    pinned: Option<ModelId>,
    previous: Option<ModelId>,
    gate_failed: bool,
    succeeded: bool,
    unserved: bool,
    skips: f64,
    fixed_usd: f64,
    calls: f64,
    compactions: f64,
    turns_served: f64,
    turns_succeeded: f64,
    tokens: [f64; 4],
    /// Cost and cost without caching (USD), for the tally.
    cost: f64,
    uncached: f64,
    /// What the deferred prefix tokens would cost above `cost` (which
    /// counts them as read) had every one been written.
    deferred_swing_usd: f64,
}

impl PolicySession {
    pub fn new(nm: usize) -> PolicySession {
        PolicySession {
            cache: SessionCache::new(nm),
            pinned: None,
            previous: None,
            gate_failed: false,
            succeeded: true,
            unserved: false,
            skips: 0.0,
            fixed_usd: 0.0,
            calls: 0.0,
            compactions: 0.0,
            turns_served: 0.0,
            turns_succeeded: 0.0,
            tokens: [0.0; 4],
            cost: 0.0,
            uncached: 0.0,
            deferred_swing_usd: 0.0,
        }
    }

    /// Ready for a new session (keeping the cache's allocation: exact
    /// mode and the fast path reset one per policy per session).
    pub fn reset(&mut self) {
        let mut cache = std::mem::take(&mut self.cache);
        cache.reset();
        *self = PolicySession {
            cache,
            ..PolicySession::new(0)
        };
    }

    pub fn succeeded(&self) -> bool {
        self.succeeded
    }

    /// The session's cost if every deferred prefix hit (`A`) and the extra
    /// if every one missed (`S`), USD.
    pub fn cost_split(&self) -> (f64, f64) {
        (self.cost, self.deferred_swing_usd)
    }
}

/// Turns routed and booked for every policy of one instance (see the module
/// documentation).
pub(crate) struct Runner<'a> {
    pub inst: &'a Instance,
    pub tables: &'a Tables,
    pub ctx: &'a Context<'a>,
    dec: Decision,
}

impl<'a> Runner<'a> {
    pub fn new(inst: &'a Instance, tables: &'a Tables, ctx: &'a Context<'a>) -> Runner<'a> {
        Runner {
            inst,
            tables,
            ctx,
            dec: Decision::default(),
        }
    }

    /// Plays turn `k` of `draw` for every policy. `history` is the
    /// conversation's tokens before the turn (updated); `states` holds one
    /// entry per policy; each call is counted `weight` times.
    #[allow(clippy::too_many_arguments)]
    pub fn turn(
        &mut self,
        draw: &SessionDraw,
        k: usize,
        history: &mut u64,
        states: &mut [PolicySession],
        ledgers: &mut [Ledger],
        warmth: &mut impl PrefixWarmth,
        weight: f64,
    ) {
        let w = draw.workload as usize;
        let (inst, tables, ctx) = (self.inst, self.tables, self.ctx);
        let dec = &mut self.dec;
        let wl = &inst.workloads[w];
        let s: &SessionInst = wl.session.as_ref().expect("a session workload");
        let prefix = wl.prefix_tokens;
        let turn = &draw.turns[k];
        let time_s = draw.start_s + turn.at_s;
        // Compaction depends on the drawn tokens only, so every policy
        // compacts at the same turn.
        if let Some(c) = s.compaction
            && prefix + *history > c.threshold
        {
            let input = prefix + *history;
            for (p, st) in states.iter_mut().enumerate() {
                bill_main(
                    inst,
                    tables,
                    p,
                    st,
                    w,
                    c.model,
                    inst.pricing[c.model].mode(false, wl.service),
                    time_s,
                    input,
                    c.summary,
                    &mut ledgers[p],
                    warmth,
                    weight,
                );
                st.compactions += 1.0;
                st.cache.reset();
            }
            *history = c.summary;
        }
        let context = prefix + *history;
        let mut req = Request {
            workload: w as u16,
            task: wl.task,
            modality: wl.modality,
            input_tokens: context + turn.appended,
            output_tokens: turn.output,
            prefix_tokens: prefix,
            prefix_id: draw.prefix_id,
            difficulty: turn.difficulty,
            required_capability: turn.required_capability,
            common: turn.common,
            batch: false,
            service: wl.service,
            time_s,
            aux: turn.aux,
            key: turn.key,
            outcomes: Outcomes::default(),
            noise: f64::NAN,
            session: SessionState {
                turn: k as u32,
                turns: draw.turns.len() as u32,
                context_tokens: context,
                previous_model: None,
                gate_failed: false,
            },
        };
        let counts = s.success.counts(turn.difficulty);
        for (p, st) in states.iter_mut().enumerate() {
            ctx.set_policy(p);
            req.session.previous_model = st.previous;
            req.session.gate_failed = st.gate_failed;
            let policy = &*inst.policies[p];
            dec.clear();
            route_turn(policy, st.pinned, &req, ctx, dec);
            let led = &mut ledgers[p];
            let mut latency_ms = 0.0;
            for call in dec.calls() {
                let m = call.model.index();
                let service = call.model.service().unwrap_or(req.service);
                let mode = inst.pricing[m].mode(false, service);
                let (ttft, ms_per_token) = tables.speed(m, mode);
                match call.kind {
                    CallKind::Main => {
                        bill_main(
                            inst,
                            tables,
                            p,
                            st,
                            w,
                            m,
                            mode,
                            time_s,
                            req.input_tokens,
                            req.output_tokens,
                            led,
                            warmth,
                            weight,
                        );
                        latency_ms += ttft + req.output_tokens as f64 * ms_per_token;
                    }
                    CallKind::Overhead {
                        input_tokens,
                        output_tokens,
                    } => {
                        let pr = &inst.pricing[m];
                        let tier = pr.tier(input_tokens);
                        let cell = led.cell_mut(w, m);
                        cell.overhead_calls += weight;
                        let tokens = cell.tokens_mut(OVERHEAD, tier as usize, mode as usize);
                        tokens[Component::Input as usize] += weight * input_tokens as f64;
                        tokens[Component::Output as usize] += weight * output_tokens as f64;
                        let usd = (input_tokens as f64 * pr.rate(tier, mode, Component::Input)
                            + output_tokens as f64 * pr.rate(tier, mode, Component::Output))
                            / 1e6;
                        st.cost += usd;
                        st.uncached += usd;
                        latency_ms += ttft + output_tokens as f64 * ms_per_token;
                    }
                }
            }
            st.skips += dec.skips() as f64;
            st.fixed_usd += dec.fixed_overhead_usd();
            st.cost += dec.fixed_overhead_usd();
            st.uncached += dec.fixed_overhead_usd();
            let escalated = dec.main_calls() > 1;
            match dec.accepted() {
                Some(c) => {
                    let ok = ctx.succeeds(c.model, &req);
                    st.turns_served += 1.0;
                    if ok {
                        st.turns_succeeded += 1.0;
                    } else if counts {
                        st.succeeded = false;
                    }
                    st.previous = Some(c.model);
                    led.latency[w].add(latency_ms, weight);
                    match inst.session_routing[p] {
                        SessionRouting::Affinity if k == 0 => st.pinned = Some(c.model),
                        SessionRouting::EscalateAfterGateFailure if escalated => {
                            st.pinned = Some(c.model)
                        }
                        _ => {}
                    }
                }
                None => {
                    st.unserved = true;
                    if counts {
                        st.succeeded = false;
                    }
                    st.previous = None;
                }
            }
            st.gate_failed |= escalated;
        }
        *history += turn.appended + turn.output;
    }

    /// Books the end of a session of `turns` turns for every policy.
    pub fn finish(
        &self,
        w: usize,
        turns: usize,
        states: &[PolicySession],
        ledgers: &mut [Ledger],
        weight: f64,
    ) {
        for (st, led) in states.iter().zip(ledgers.iter_mut()) {
            let c = &mut led.per_workload[w];
            c.requests += weight;
            c.skips += weight * st.skips;
            c.fixed_overhead_usd += weight * st.fixed_usd;
            // A gate failure is an escalation: the session escalated.
            if st.gate_failed {
                c.escalated += weight;
            }
            if st.unserved {
                c.unserved += weight;
            } else {
                c.served += weight;
            }
            if st.succeeded {
                c.succeeded += weight;
            }
            let tally = &mut led.sessions[w];
            if !tally.is_session() {
                *tally = SessionTally::new();
            }
            tally.sessions += weight;
            tally.turns += weight * turns as f64;
            tally.turns_served += weight * st.turns_served;
            tally.turns_succeeded += weight * st.turns_succeeded;
            tally.calls += weight * st.calls;
            tally.compactions += weight * st.compactions;
            tally.fresh += weight * st.tokens[0];
            tally.write += weight * st.tokens[1];
            tally.read += weight * st.tokens[2];
            tally.output += weight * st.tokens[3];
            tally.cost.add(st.cost * 1e6, weight);
            let row = &mut tally.by_turns[turns.clamp(1, TURN_ROWS) - 1];
            row[0] += weight;
            row[1] += weight * st.cost;
            row[2] += weight * st.uncached;
            row[3] += weight * st.deferred_swing_usd;
            tally.swing_usd += weight * st.deferred_swing_usd;
        }
    }
}

/// Bills one answer or summary call of policy `p` and books it.
#[allow(clippy::too_many_arguments)]
fn bill_main(
    inst: &Instance,
    t: &Tables,
    p: usize,
    st: &mut PolicySession,
    w: usize,
    m: usize,
    mode: Mode,
    time_s: f64,
    input: u64,
    output: u64,
    led: &mut Ledger,
    warmth: &mut impl PrefixWarmth,
    weight: f64,
) {
    let i = w * t.nm + m;
    let rules = &t.rules[i];
    let prefix = inst.workloads[w].prefix_tokens;
    let pr = &inst.pricing[m];
    let tier = pr.tier(input);
    let warm = if rules.enabled && prefix > 0 {
        warmth.warm(p, m, time_s)
    } else {
        Some(false)
    };
    let split: InputSplit = st
        .cache
        .call(m, rules, time_s, prefix, input, warm.unwrap_or(false));
    if split.touched_prefix {
        warmth.touched(p, m, time_s);
    }
    let deferred = if warm.is_none() {
        split.prefix_if_warm
    } else {
        0
    };
    let write_c = t.write[i];
    let cell = led.cell_mut(w, m);
    cell.calls += weight;
    let tk = tier as usize;
    let tokens = cell.tokens_mut(MAIN, tk, mode as usize);
    tokens[Component::Input as usize] += weight * split.fresh as f64;
    tokens[write_c as usize] += weight * (split.write - deferred) as f64;
    tokens[Component::CacheRead as usize] += weight * split.read as f64;
    tokens[Component::Output as usize] += weight * output as f64;
    if deferred > 0 {
        *cell.deferred_mut(tk, mode as usize) += weight;
    } else if split.read > 0 {
        cell.cache_hits += weight;
    } else if split.write > 0 {
        cell.cache_misses += weight;
    }
    let rate = |c: Component| pr.rate(tier, mode, c);
    let read_rate = rate(Component::CacheRead);
    let write_rate = rate(write_c);
    st.calls += 1.0;
    st.tokens[0] += split.fresh as f64;
    st.tokens[1] += (split.write - deferred) as f64;
    st.tokens[2] += (split.read + deferred) as f64;
    st.tokens[3] += output as f64;
    st.cost += (split.fresh as f64 * rate(Component::Input)
        + (split.write - deferred) as f64 * write_rate
        + (split.read + deferred) as f64 * read_rate
        + output as f64 * rate(Component::Output))
        / 1e6;
    st.uncached +=
        (input as f64 * rate(Component::Input) + output as f64 * rate(Component::Output)) / 1e6;
    st.deferred_swing_usd += deferred as f64 * (write_rate - read_rate) / 1e6;
}

// ---------------------------------------------------------------------------
// Exact mode.

/// Exact mode's record of when each policy last sent each prefix to each
/// model, per (workload × model), allocated on first use.
struct LastSent<'a> {
    slots: &'a mut [Vec<Vec<f64>>],
    tables: &'a Tables,
    w: usize,
    prefix_id: usize,
}

impl PrefixWarmth for LastSent<'_> {
    fn warm(&mut self, p: usize, model: usize, time_s: f64) -> Option<bool> {
        let i = self.w * self.tables.nm + model;
        let slots = &self.slots[p][i];
        let last = slots
            .get(self.prefix_id)
            .copied()
            .unwrap_or(f64::NEG_INFINITY);
        Some(time_s - last < self.tables.ttl_s[i])
    }

    fn touched(&mut self, p: usize, model: usize, time_s: f64) {
        let i = self.w * self.tables.nm + model;
        let slots = &mut self.slots[p][i];
        if slots.is_empty() {
            *slots = vec![f64::NEG_INFINITY; self.tables.distinct[self.w]];
        }
        slots[self.prefix_id] = time_s;
    }
}

/// A session in exact mode's queue.
struct Live {
    draw: SessionDraw,
    next: usize,
    history: u64,
    states: Vec<PolicySession>,
}

/// Exact mode's sessions of one month: sessions arrive in start order
/// ([`Sessions::arrive`]); every turn of every live session is played in
/// time order (ties by arrival), so cross-session prefix caching is
/// simulated as it happens.
pub(crate) struct Sessions<'a> {
    runner: Runner<'a>,
    pub ledgers: Vec<Ledger>,
    /// Last send per (policy, workload × model, prefix).
    last_sent: Vec<Vec<Vec<f64>>>,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    live: Vec<Option<Live>>,
    free: Vec<usize>,
    spare: Vec<Live>,
    seq: u64,
}

/// Orders non-negative times by their bits.
fn time_key(t: f64) -> u64 {
    t.max(0.0).to_bits()
}

impl<'a> Sessions<'a> {
    pub fn new(inst: &'a Instance, tables: &'a Tables, ctx: &'a Context<'a>) -> Sessions<'a> {
        let nw = inst.workloads.len();
        let nm = tables.nm;
        let np = inst.policies.len();
        Sessions {
            runner: Runner::new(inst, tables, ctx),
            ledgers: vec![Ledger::new(nw, nm); np],
            last_sent: vec![vec![Vec::new(); nw * nm]; np],
            queue: BinaryHeap::new(),
            live: Vec::new(),
            free: Vec::new(),
            spare: Vec::new(),
            seq: 0,
        }
    }

    /// A session starts: plays every turn due before it, then its first.
    pub fn arrive(&mut self, draw: &SessionDraw) {
        self.advance(draw.start_s);
        let np = self.runner.inst.policies.len();
        let nm = self.runner.tables.nm;
        let mut live = self.spare.pop().unwrap_or_else(|| Live {
            draw: SessionDraw::default(),
            next: 0,
            history: 0,
            states: Vec::new(),
        });
        live.draw.clone_from(draw);
        live.next = 0;
        live.history = 0;
        live.states.resize_with(np, || PolicySession::new(nm));
        live.states.iter_mut().for_each(PolicySession::reset);
        let slot = match self.free.pop() {
            Some(i) => {
                self.live[i] = Some(live);
                i
            }
            None => {
                self.live.push(Some(live));
                self.live.len() - 1
            }
        };
        self.play(slot);
    }

    /// Plays every turn due at or before `t`.
    fn advance(&mut self, t: f64) {
        let key = time_key(t);
        while let Some(&Reverse((at, _, slot))) = self.queue.peek() {
            if at > key {
                break;
            }
            self.queue.pop();
            self.play(slot);
        }
    }

    /// Plays the next turn of the session in `slot`, then queues its next
    /// turn or books its end.
    fn play(&mut self, slot: usize) {
        let mut live = self.live[slot].take().expect("a live session");
        let w = live.draw.workload as usize;
        let mut warmth = LastSent {
            slots: &mut self.last_sent,
            tables: self.runner.tables,
            w,
            prefix_id: live.draw.prefix_id as usize,
        };
        self.runner.turn(
            &live.draw,
            live.next,
            &mut live.history,
            &mut live.states,
            &mut self.ledgers,
            &mut warmth,
            1.0,
        );
        live.next += 1;
        if live.next < live.draw.turns.len() {
            let at = live.draw.start_s + live.draw.turns[live.next].at_s;
            self.seq += 1;
            self.queue.push(Reverse((time_key(at), self.seq, slot)));
            self.live[slot] = Some(live);
        } else {
            self.runner.finish(
                w,
                live.draw.turns.len(),
                &live.states,
                &mut self.ledgers,
                1.0,
            );
            self.free.push(slot);
            self.spare.push(live);
        }
    }

    /// Plays every remaining turn (sessions that run past the month's end
    /// are billed to the month they started in) and returns the ledgers.
    pub fn finish(mut self) -> Vec<Ledger> {
        self.advance(f64::INFINITY);
        self.ledgers
    }
}

// ---------------------------------------------------------------------------
// Fast path.

/// The fast path's prefix warmth: a session's own earlier calls are known;
/// other sessions' are left to the closed form. Accumulates, per policy
/// and model, the seconds the session covers (see the module docs).
pub(crate) struct OwnCoverage {
    ttl_s: Vec<f64>,
    /// Per policy × model: the session's last touch (−∞ if none).
    last: Vec<f64>,
    /// Per policy × model: seconds covered, summed over sessions (weighted).
    pub covered: Vec<f64>,
    nm: usize,
    weight: f64,
}

impl OwnCoverage {
    pub fn new(tables: &Tables, w: usize, np: usize) -> OwnCoverage {
        let nm = tables.nm;
        OwnCoverage {
            ttl_s: (0..nm).map(|m| tables.ttl_s[w * nm + m]).collect(),
            last: vec![f64::NEG_INFINITY; np * nm],
            covered: vec![0.0; np * nm],
            nm,
            weight: 1.0,
        }
    }

    /// A new session, counted `weight` times.
    pub fn start(&mut self, weight: f64) {
        self.last.iter_mut().for_each(|x| *x = f64::NEG_INFINITY);
        self.weight = weight;
    }
}

impl PrefixWarmth for OwnCoverage {
    fn warm(&mut self, p: usize, model: usize, time_s: f64) -> Option<bool> {
        if time_s - self.last[p * self.nm + model] < self.ttl_s[model] {
            Some(true)
        } else {
            None
        }
    }

    fn touched(&mut self, p: usize, model: usize, time_s: f64) {
        let i = p * self.nm + model;
        let ttl = self.ttl_s[model];
        let from = time_s.max(self.last[i] + ttl);
        self.covered[i] += self.weight * (time_s + ttl - from).max(0.0);
        self.last[i] = time_s;
    }
}
