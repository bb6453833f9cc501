//! Scaling out (issue 11): `livequeue-server` nodes sharing one Redis behind nginx running
//! `deploy/nginx.conf`, all real processes on loopback ports ([`Cluster`]): one line on
//! every node, kept through nodes killed and restarted and through Redis going away.
//!
//! Each test starts its own cluster. They need redis-server, nginx and (one of them)
//! Chromium, and fail saying which is missing. `cargo xtask test` runs them one at a time
//! after the embedding tests (`xtask/src/e2e.rs`): several clusters at once on two cores
//! would make the timings they allow (a stream's update, a node noticing Redis) flaky.
//! `LIVEQUEUE_E2E_BACKEND=memory` runs them on nodes without Redis, where each must fail.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use livequeue_e2e::api::{Api, credentials, still_experience};
use livequeue_e2e::browser::{Browser, PATIENCE};
use livequeue_e2e::cluster::Cluster;
use livequeue_e2e::feed::{Feed, Transport, Update};
use livequeue_e2e::widget;
use livequeue_protocol::api::{CreateExperience, ErrorBody, JoinResponse};
use livequeue_protocol::paths::Endpoint;
use livequeue_protocol::{ErrorCode, QueueState};
use tokio::task::JoinSet;

/// How long an update may take from one node to a stream held by another: it is sent at
/// once (or at the holder's next tick), so anything near this is lost, not late.
const ARRIVAL: Duration = Duration::from_secs(10);
/// Where the tests' admitted shoppers check out (never visited).
const CHECKOUT: &str = "https://shop.example/checkout";
/// How long a node may take to notice that Redis is gone, or back (its readiness).
const NOTICE: Duration = Duration::from_secs(30);

/// `count` shoppers join `experience` one after another, the `i`-th through node
/// `i % nodes`: their order in the line is the order of the list.
async fn join_in_turn(cluster: &Cluster, experience: &str, count: usize) -> Vec<JoinResponse> {
    let mut shoppers = Vec::with_capacity(count);
    for i in 0..count {
        let node = &cluster.nodes[i % cluster.nodes.len()];
        shoppers.push(node.api.join(experience).await);
    }
    shoppers
}

/// A cluster of two nodes with a still experience named `name` and `count` shoppers in
/// its line, joined in turn through the nodes (see [`join_in_turn`]).
async fn still_line(name: &str, count: usize) -> (Cluster, Vec<JoinResponse>) {
    let cluster = Cluster::start(name, 2).await;
    cluster.create(&still_experience(name, 10, CHECKOUT)).await;
    let shoppers = join_in_turn(&cluster, name, count).await;
    (cluster, shoppers)
}

/// Every shopper's state polled at `api`, concurrently, in the shoppers' order.
async fn poll_all(api: &Api, experience: &str, shoppers: &[JoinResponse]) -> Vec<QueueState> {
    let mut polls = JoinSet::new();
    for (i, who) in shoppers.iter().enumerate() {
        let (api, experience, who) = (api.clone(), experience.to_owned(), who.clone());
        polls.spawn(async move { (i, api.state(&experience, &who).await) });
    }
    let mut states: Vec<(usize, QueueState)> = polls.join_all().await;
    states.sort_by_key(|(i, _)| *i);
    states.into_iter().map(|(_, state)| state).collect()
}

/// The grant of an admitted shopper's state (`None` when not admitted).
fn grant(state: &QueueState) -> Option<&str> {
    state.admission.as_ref().map(|a| a.grant.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_admitting_at_once_admit_exactly_the_first_in_line_once_each() {
    const SHOPPERS: usize = 300;
    const STOCK: u64 = 200;
    // 60 calls of 5, spread over the nodes: half again what the stock allows, all at once.
    const CALLS: usize = 60;
    const EACH: u64 = 5;
    let cluster = Cluster::start("admit-race", 3).await;
    let id = "race";
    cluster.create(&still_experience(id, STOCK, CHECKOUT)).await;

    // Everyone joins at once, through all three nodes.
    let mut joins = JoinSet::new();
    for i in 0..SHOPPERS {
        let api = cluster.nodes[i % 3].api.clone();
        joins.spawn(async move { api.join(id).await });
    }
    let shoppers: Vec<JoinResponse> = joins.join_all().await;
    // Each one's ticket: the place polled (through another node than the one joined
    // through), which must be the one the join told.
    let states = poll_all(&cluster.nodes[1].api, id, &shoppers).await;
    let mut by_ticket = BTreeMap::new();
    for (who, state) in shoppers.iter().zip(&states) {
        let place = state
            .position
            .expect("a shopper who just joined has a place");
        assert_eq!(
            who.state.position,
            Some(place),
            "{} was told one place on joining and has another",
            who.consumer_id
        );
        let earlier = by_ticket.insert(place, who.clone());
        assert!(earlier.is_none(), "two shoppers were given place {place}");
    }
    assert_eq!(
        by_ticket.keys().copied().collect::<Vec<u64>>(),
        (1..=SHOPPERS as u64).collect::<Vec<u64>>(),
        "concurrent joins through three nodes do not make one line of places 1..={SHOPPERS}"
    );

    let mut admits = JoinSet::new();
    for call in 0..CALLS {
        let api = cluster.nodes[call % 3].api.clone();
        admits.spawn(async move { (call % 3, api.try_admit(id, EACH).await) });
    }
    for (node, answer) in admits.join_all().await {
        assert_eq!(
            answer.status, 200,
            "an admit call on node {node}: {}",
            answer.body
        );
        // Read as plain JSON: an oversold stock would be a negative number, which the
        // summary's type cannot even hold.
        let summary: serde_json::Value = answer.json("an admit call's summary");
        let available = summary["stock"]["available"].as_u64();
        let admitted = summary["admitted"].as_u64();
        assert!(
            available.is_some_and(|a| a <= STOCK) && admitted.is_some_and(|a| a <= STOCK),
            "an admit call on node {node} answered stock or admissions out of bounds: {summary}"
        );
    }

    for node in &cluster.nodes {
        let summary = node.api.summary(id).await;
        assert_eq!(
            (
                summary.admitted,
                summary.stock.available,
                summary.active_admissions
            ),
            (STOCK, 0, STOCK),
            "node {}: (admitted, available, active) after the race",
            node.index
        );
        assert_eq!(
            summary.waiting,
            SHOPPERS as u64 - STOCK,
            "node {}: still waiting",
            node.index
        );
    }
    let in_order: Vec<JoinResponse> = by_ticket.into_values().collect();
    let mut grants = HashSet::new();
    for node in &cluster.nodes {
        let states = poll_all(&node.api, id, &in_order).await;
        for (ticket, state) in (1..).zip(&states) {
            if ticket <= STOCK {
                let grant = grant(state).unwrap_or_else(|| {
                    panic!(
                        "node {}: the shopper with ticket {ticket} was not admitted",
                        node.index
                    )
                });
                grants.insert(grant.to_owned());
            } else {
                assert_eq!(
                    (grant(state), state.position),
                    (None, Some(ticket - STOCK)),
                    "node {}: the shopper with ticket {ticket} (admission, place), past the stock",
                    node.index
                );
            }
        }
    }
    // Three nodes' answers, one grant per admitted shopper: the same on every node, and
    // never one shopper's grant given to another.
    assert_eq!(
        grants.len(),
        STOCK as usize,
        "the {STOCK} admitted shoppers do not hold {STOCK} distinct grants, the same on every node"
    );
}

/// A shopper's stream opened through nginx (on whichever node nginx picks, found from the
/// nodes' metrics) receives an admission made through the other node's operator API, and
/// polling the holding node directly shows the same grant.
async fn an_admission_through_the_other_node_reaches(transport: Transport) {
    let cluster = Cluster::start(&format!("crossing-{transport}"), 2).await;
    let id = "crossing";
    cluster.create(&still_experience(id, 10, CHECKOUT)).await;
    let nginx = &cluster.nginx.api;
    let me = nginx.join(id).await;
    let mut feed = Feed::open(nginx, transport, id, &me).await;
    match feed.next(ARRIVAL).await {
        Update::State(state) => assert_eq!(
            (state.position, grant(&state)),
            (Some(1), None),
            "the {transport} stream starts with the shopper first in line"
        ),
        other => panic!("the {transport} stream started with {other:?}, not the state"),
    }
    let holder = cluster.holder(ARRIVAL).await;
    let other = 1 - holder;

    let summary = cluster.nodes[other].api.admit(id, 1).await;
    assert_eq!(summary.admitted, 1, "node {other} admitted the shopper");
    let admission = feed.admission(ARRIVAL).await;
    let polled = cluster.nodes[holder].api.state(id, &me).await;
    assert_eq!(
        grant(&polled),
        Some(admission.grant.as_str()),
        "node {holder} (holding the {transport} stream) polled, against the stream's grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_through_one_node_reaches_an_event_stream_on_the_other() {
    an_admission_through_the_other_node_reaches(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_through_one_node_reaches_a_websocket_on_the_other() {
    an_admission_through_the_other_node_reaches(Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_whose_node_is_killed_keeps_its_place_and_gets_its_turn_from_the_other() {
    let mut cluster = Cluster::start("widget-failover", 2).await;
    let id = "failover";
    cluster.create(&still_experience(id, 10, CHECKOUT)).await;
    let nginx = cluster.nginx.api.clone();
    // Three ahead, three behind: a widget put back at the end of a line would show 7.
    for _ in 0..3 {
        nginx.join(id).await;
    }
    let me = nginx.join(id).await;
    for _ in 0..3 {
        nginx.join(id).await;
    }
    // The widget served by nginx, talking to nginx (its own origin), as the shopper
    // whose credentials the shop put in the fragment.
    let fragment = credentials(&me).replacen('?', "#", 1);
    let browser = Browser::start().await;
    browser
        .goto(&nginx.url(&format!("/?experience={id}{fragment}")))
        .await;
    let place = widget::shows_place(4);
    let what = "the widget through nginx shows the shopper's place, 4";
    browser.wait_js(what, &place, PATIENCE).await;
    let holder = cluster.holder(PATIENCE).await;
    let other = 1 - holder;

    cluster.nodes[holder].kill();
    let now = cluster.holder(PATIENCE).await;
    assert_eq!(
        now, other,
        "the widget reconnected through nginx to the node left"
    );
    let what = "the widget on the node left shows the same place, 4";
    browser.wait_js(what, &place, PATIENCE).await;

    cluster.nodes[other].api.admit(id, 4).await;
    let what = "the widget shows its turn, with a checkout carrying the grant";
    let shown = browser
        .wait_js(what, widget::CHECKOUT_GRANT, PATIENCE)
        .await;
    let polled = cluster.nodes[other].api.state(id, &me).await;
    assert_eq!(
        shown.as_str(),
        grant(&polled),
        "the grant the widget shows, against node {other}'s"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admissions_before_and_after_a_redis_outage_are_all_kept_and_none_twice() {
    let id = "redis-outage";
    let (mut cluster, shoppers) = still_line(id, 6).await;
    // Every shopper's event stream, straight to a node (alternately), open throughout.
    let mut feeds = Vec::new();
    for (i, who) in shoppers.iter().enumerate() {
        let mut feed = Feed::open(&cluster.nodes[i % 2].api, Transport::Sse, id, who).await;
        feed.next(ARRIVAL).await;
        feeds.push(feed);
    }
    let mut grants = Vec::new();
    cluster.nodes[0].api.admit(id, 2).await;
    for feed in &mut feeds[..2] {
        grants.push(feed.admission(ARRIVAL).await.grant);
    }

    cluster.redis().kill();
    for node in &mut cluster.nodes {
        node.wait_readyz(503, NOTICE).await;
        assert_eq!(
            node.api.status(Endpoint::Health.route()).await,
            Some(200),
            "node {} is not live while Redis is down",
            node.index
        );
    }
    // Refused as the store's absence, not taken and done later.
    let refused = cluster.nodes[1].api.try_admit(id, 2).await;
    let body: Option<ErrorBody> = serde_json::from_str(&refused.body).ok();
    assert_eq!(
        (refused.status, body.map(|b| b.error.code)),
        (503, Some(ErrorCode::Unavailable)),
        "node 1 asked to admit while Redis was down: {}",
        refused.body
    );

    cluster.redis().restart().await;
    for node in &mut cluster.nodes {
        node.wait_readyz(200, NOTICE).await;
    }
    cluster.nodes[1].api.admit(id, 2).await;
    // On the streams opened before the outage: the nodes kept them.
    for feed in &mut feeds[2..4] {
        grants.push(feed.admission(ARRIVAL).await.grant);
    }

    let distinct: HashSet<&String> = grants.iter().collect();
    assert_eq!(distinct.len(), 4, "one grant given twice: {grants:?}");
    for node in &cluster.nodes {
        let summary = node.api.summary(id).await;
        assert_eq!(
            (summary.admitted, summary.stock.available),
            (4, 6),
            "node {}: (admitted, available): the refused call admitted no one, nothing was lost",
            node.index
        );
        let states = poll_all(&node.api, id, &shoppers).await;
        for (i, state) in states.iter().enumerate() {
            let expected = grants.get(i).map(String::as_str);
            assert_eq!(
                grant(state),
                expected,
                "node {}: shopper {i}'s grant polled, against its stream's",
                node.index
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_and_the_cursor_epoch_survive_killing_and_restarting_every_node() {
    let id = "restarts";
    let (mut cluster, shoppers) = still_line(id, 6).await;
    // One admitted, so that a grant has to survive too, and the rest moved up one.
    cluster.nodes[1].api.admit(id, 1).await;
    let before = poll_all(&cluster.nodes[0].api, id, &shoppers).await;

    // No node lives through this: the line can survive only outside them.
    for node in &mut cluster.nodes {
        node.kill();
    }
    for node in &mut cluster.nodes {
        node.restart().await;
        node.wait_readyz(200, NOTICE).await;
    }

    for node in &cluster.nodes {
        let after = poll_all(&node.api, id, &shoppers).await;
        for (i, (was, is)) in before.iter().zip(&after).enumerate() {
            assert_eq!(
                (is.position, grant(is), is.cursor.epoch),
                (was.position, grant(was), was.cursor.epoch),
                "node {}: shopper {i}'s (place, grant, cursor epoch) after the restarts, \
                 against before",
                node.index
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_at_a_time_admits_at_the_rate_and_another_takes_over_when_it_is_killed() {
    const PER_SECOND: u64 = 4;
    // The nodes' lease at `--tick-ms 200` lasts 2 s: a takeover comes well within this.
    const TAKEOVER: Duration = Duration::from_secs(10);
    let mut cluster = Cluster::start("ticker", 2).await;
    let id = "ticker";
    cluster
        .create(&CreateExperience {
            admission_rate_per_minute: (PER_SECOND * 60) as f64,
            ..still_experience(id, 1000, CHECKOUT)
        })
        .await;
    // Enough for the whole test at the rate: the line never runs dry.
    join_in_turn(&cluster, id, 150).await;

    // Whichever node holds the lease, killing each in turn kills its holder once at least.
    for victim in 0..2 {
        let other = 1 - victim;
        cluster.nodes[victim].kill();
        let before = cluster.nodes[other].api.summary(id).await.admitted;
        let deadline = Instant::now() + TAKEOVER;
        loop {
            let now = cluster.nodes[other].api.summary(id).await.admitted;
            if now >= before + 2 * PER_SECOND {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "with node {victim} killed, node {other} admitted {} in {TAKEOVER:?} at \
                 {PER_SECOND} a second: nobody took the ticker over",
                now - before
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cluster.nodes[victim].restart().await;
        cluster.nodes[victim].wait_readyz(200, NOTICE).await;
    }

    // Both nodes up again: over a window, one ticker admits at the rate, two would admit
    // at twice it. (A window is the measure here, so it is waited out.)
    const WINDOW: Duration = Duration::from_secs(4);
    let api = &cluster.nodes[0].api;
    let (from, first) = (Instant::now(), api.summary(id).await.admitted);
    tokio::time::sleep(WINDOW).await;
    let admitted = api.summary(id).await.admitted - first;
    let seconds = from.elapsed().as_secs_f64();
    let most = (PER_SECOND as f64 * seconds * 1.25).ceil() as u64 + 2;
    assert!(
        (PER_SECOND..=most).contains(&admitted),
        "{admitted} admitted in {seconds:.1} s at {PER_SECOND} a second (expected \
         {PER_SECOND} to {most}): no node admits at the rate, or more than one does"
    );
}
