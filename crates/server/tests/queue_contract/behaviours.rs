//! The behaviours of the queue's contract, one function each, generic over the back end:
//! join, leave, admission order and rate, grants with expiry and single use, extend,
//! reserve, stock never negative, cursor monotonic, replay and snapshot, and a grant past
//! its time. Each takes a handle of an experience not created yet and creates it.

use livequeue_protocol::{AdmissionStatus, Cursor, ExperienceStatus, ServerEvent, Stock};
use livequeue_server::engine::core::{
    Departure, GrantError, Place, QueueCore, QueueError, RedeemError, Standing,
};
use livequeue_server::engine::experience::{AdmissionRate, HISTORY};

use crate::setup::{EXTENSION_MS, MAX_UNITS, NOW, TTL_MS, setup};

async fn create(queue: &impl QueueCore, stock: u64) {
    queue.create(&setup(stock)).await.expect("create failed");
}

async fn join(queue: &impl QueueCore, consumer: &str) -> Place {
    queue.join(consumer).await.expect("join failed")
}

async fn place(queue: &impl QueueCore, consumer: &str) -> Place {
    queue.position(consumer).await.expect("position failed")
}

/// Stock as `consumer` (who joined) sees it.
async fn stock_seen_by(queue: &impl QueueCore, consumer: &str) -> Stock {
    place(queue, consumer).await.stock
}

/// `consumer` joins a line with nobody waiting ahead and is admitted at [`NOW`]; returns
/// their grant.
async fn admit_alone(queue: &impl QueueCore, consumer: &str) -> String {
    join(queue, consumer).await;
    let admitted = queue.admit(1, NOW).await.expect("admit failed");
    assert_eq!(admitted.shoppers.len(), 1, "{consumer} was not admitted");
    admitted.shoppers[0].admission.grant.clone()
}

fn grant_status(place: &Place) -> Option<AdmissionStatus> {
    place.admission().map(|a| a.status)
}

pub async fn joining_hands_out_tickets_in_join_order_and_a_known_shopper_keeps_one_place(
    queue: impl QueueCore,
) {
    assert!(
        matches!(queue.join("a").await, Err(QueueError::UnknownExperience(_))),
        "a shopper joined an experience never created"
    );
    create(&queue, 10).await;
    for (i, consumer) in ["a", "b", "c"].into_iter().enumerate() {
        let place = join(&queue, consumer).await;
        assert_eq!(place.ticket, i as u64, "tickets do not follow join order");
        assert_eq!(
            place.position(),
            Some(i as u64 + 1),
            "{consumer} joined at the wrong place"
        );
        assert_eq!(place.status, ExperienceStatus::Open);
    }
    let again = join(&queue, "a").await;
    assert_eq!(again.ticket, 0, "a known shopper was given a new ticket");
    assert_eq!(
        place(&queue, "c").await.position(),
        Some(3),
        "a known shopper joining again pushed the others back"
    );
    assert!(
        matches!(
            queue.position("stranger").await,
            Err(QueueError::UnknownConsumer)
        ),
        "a shopper who never joined has a place"
    );
}

pub async fn leaving_the_line_moves_those_behind_up_and_a_stranger_cannot_leave(
    queue: impl QueueCore,
) {
    create(&queue, 10).await;
    for consumer in ["a", "b", "c"] {
        join(&queue, consumer).await;
    }
    assert_eq!(
        queue.leave("b", NOW).await.expect("leave failed"),
        Departure::FromLine
    );
    assert_eq!(
        place(&queue, "c").await.position(),
        Some(2),
        "the shopper behind did not move up"
    );
    assert_eq!(place(&queue, "b").await.standing, Standing::Left);
    assert_eq!(
        queue.leave("b", NOW).await.expect("leave failed"),
        Departure::Nothing,
        "leaving twice did something"
    );
    assert!(
        matches!(
            queue.leave("stranger", NOW).await,
            Err(QueueError::UnknownConsumer)
        ),
        "a shopper who never joined left"
    );
}

pub async fn leaving_after_admission_gives_the_grant_s_units_back_once(queue: impl QueueCore) {
    create(&queue, 3).await;
    let grant = admit_alone(&queue, "a").await;
    queue
        .reserve("a", "k", 2, NOW)
        .await
        .expect("reserve failed");
    assert_eq!(stock_seen_by(&queue, "a").await.available, 1);
    assert_eq!(
        queue.leave("a", NOW).await.expect("leave failed"),
        Departure::GrantReleased { units: 2 },
        "leaving did not release the grant's units"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        3,
        "the units did not come back"
    );
    assert_eq!(
        queue.leave("a", NOW).await.expect("leave failed"),
        Departure::Nothing,
        "leaving again released something"
    );
    assert!(
        matches!(
            queue.redeem(&grant, NOW).await,
            Err(QueueError::Redeem(RedeemError::Expired))
        ),
        "a grant given up was redeemed"
    );
    assert_eq!(
        queue
            .expire_grants(NOW + TTL_MS)
            .await
            .expect("expire failed"),
        [],
        "a grant given up was reported as expired"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        3,
        "the units came back twice"
    );
}

pub async fn admissions_follow_join_order_and_skip_those_who_left(queue: impl QueueCore) {
    create(&queue, 10).await;
    for i in 0..5 {
        join(&queue, &format!("c{i}")).await;
    }
    queue.leave("c1", NOW).await.expect("leave failed");
    let admitted = queue.admit(3, NOW).await.expect("admit failed");
    let who: Vec<(&str, u64)> = admitted
        .shoppers
        .iter()
        .map(|s| (s.consumer.as_str(), s.ticket))
        .collect();
    assert_eq!(
        who,
        [("c0", 0), ("c2", 2), ("c3", 3)],
        "admitted out of ticket order, or the one who left"
    );
    for shopper in &admitted.shoppers {
        let admission = &shopper.admission;
        assert_eq!(admission.status, AdmissionStatus::Active);
        assert_eq!(admission.expires_at, Some(NOW + TTL_MS));
        assert_eq!(admission.reserved, 0);
        assert_eq!(admission.checkout_url, "https://shop.example/checkout");
        assert_eq!(
            place(&queue, &shopper.consumer).await.admission(),
            Some(admission),
            "the shopper does not see the admission they were given"
        );
    }
    assert_eq!(
        place(&queue, "c4").await.position(),
        Some(1),
        "the next in line is not first"
    );
}

pub async fn admissions_are_bounded_by_stock_and_the_line(queue: impl QueueCore) {
    create(&queue, 3).await;
    for i in 0..5 {
        join(&queue, &format!("c{i}")).await;
    }
    let first = queue.admit(10, NOW).await.expect("admit failed");
    assert_eq!(first.shoppers.len(), 3, "admitted beyond the stock");
    assert_eq!(stock_seen_by(&queue, "c0").await.available, 0);
    let none = queue.admit(10, NOW).await.expect("admit failed");
    assert!(none.shoppers.is_empty(), "admitted with no stock left");
    let stock = queue.set_stock(10).await.expect("set stock failed");
    assert_eq!(
        stock,
        Stock {
            available: 7,
            total: 10
        }
    );
    let rest = queue.admit(10, NOW).await.expect("admit failed");
    assert_eq!(rest.shoppers.len(), 2, "admitted beyond the line");
    assert_eq!(stock_seen_by(&queue, "c0").await.available, 5);
}

pub async fn admissions_at_the_rate_admit_what_each_tick_is_due(queue: impl QueueCore) {
    // The pacing is the engines' (AdmissionRate); the core admits what it is told.
    create(&queue, 100).await;
    for i in 0..50 {
        join(&queue, &format!("c{i}")).await;
    }
    let mut rate = AdmissionRate::new(120.0);
    let (mut now, mut admitted) = (NOW, 0);
    for _ in 0..10 {
        now += 500;
        let wanted = rate.due(500, 120.0);
        let n = queue.admit(wanted, now).await.expect("admit failed");
        rate.spend(wanted, n.shoppers.len() as u64);
        admitted += n.shoppers.len();
    }
    assert_eq!(admitted, 10, "120 a minute over 5 s is 10 admissions");
    assert_eq!(place(&queue, "c10").await.position(), Some(1));
}

pub async fn a_closed_experience_takes_no_new_shoppers_and_admits_nobody(queue: impl QueueCore) {
    let mut closed = setup(10);
    closed.settings.status = ExperienceStatus::Closed;
    queue.create(&closed).await.expect("create failed");
    assert!(
        matches!(queue.join("late").await, Err(QueueError::Closed(_))),
        "a closed experience let a new shopper in"
    );
    assert!(
        matches!(queue.admit(1, NOW).await, Err(QueueError::Closed(_))),
        "a closed experience admitted"
    );
    assert!(
        matches!(
            queue.create(&setup(10)).await,
            Err(QueueError::ExperienceExists(_))
        ),
        "an experience was created twice"
    );
}

pub async fn an_expired_grant_returns_its_units_to_stock_and_is_reported_once(
    queue: impl QueueCore,
) {
    create(&queue, 3).await;
    join(&queue, "a").await;
    join(&queue, "b").await;
    let admitted = queue.admit(2, NOW).await.expect("admit failed");
    let grant = |i: usize| admitted.shoppers[i].admission.grant.clone();
    queue
        .reserve("a", "k", 2, NOW)
        .await
        .expect("reserve failed");
    assert_eq!(stock_seen_by(&queue, "a").await.available, 0);
    assert_eq!(
        queue
            .expire_grants(NOW + TTL_MS - 1)
            .await
            .expect("expire failed"),
        [],
        "a grant expired early"
    );
    let mut expired: Vec<(String, String, u64)> = queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed")
        .into_iter()
        .map(|e| (e.consumer, e.grant, e.units))
        .collect();
    expired.sort();
    assert_eq!(
        expired,
        [
            ("a".to_string(), grant(0), 2),
            ("b".to_string(), grant(1), 1)
        ],
        "the expiry did not report each grant with its units"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        3,
        "the units did not come back"
    );
    assert_eq!(
        grant_status(&place(&queue, "a").await),
        Some(AdmissionStatus::Expired),
        "the shopper is not told their grant expired"
    );
    assert_eq!(
        queue
            .expire_grants(NOW + TTL_MS)
            .await
            .expect("expire failed"),
        [],
        "an expiry was reported twice"
    );
}

pub async fn a_grant_is_redeemed_once(queue: impl QueueCore) {
    create(&queue, 2).await;
    let grant = admit_alone(&queue, "a").await;
    assert_eq!(
        queue.redeem(&grant, NOW).await.expect("redeem failed"),
        "a",
        "the grant was redeemed for someone else"
    );
    assert!(
        matches!(
            queue.redeem(&grant, NOW).await,
            Err(QueueError::Redeem(RedeemError::AlreadyRedeemed))
        ),
        "a grant was redeemed twice"
    );
    for never_issued in [format!("g_{:032x}", 0), "g_0000".to_string()] {
        assert!(
            matches!(
                queue.redeem(&never_issued, NOW).await,
                Err(QueueError::Redeem(RedeemError::Unknown))
            ),
            "a grant never issued ({never_issued}) was redeemed"
        );
    }
    assert_eq!(
        grant_status(&place(&queue, "a").await),
        Some(AdmissionStatus::Redeemed)
    );
    assert_eq!(
        queue
            .expire_grants(NOW + TTL_MS)
            .await
            .expect("expire failed"),
        [],
        "a redeemed grant expired"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        1,
        "a sold unit came back"
    );
}

pub async fn a_grant_is_extended_once_and_expires_at_its_new_time(queue: impl QueueCore) {
    create(&queue, 2).await;
    admit_alone(&queue, "a").await;
    join(&queue, "b").await;
    let extended = queue.extend("a", NOW).await.expect("extend failed");
    assert_eq!(extended.expires_at, Some(NOW + TTL_MS + EXTENSION_MS));
    assert_eq!(extended.status, AdmissionStatus::Active);
    assert!(
        matches!(
            queue.extend("a", NOW).await,
            Err(QueueError::Grant(GrantError::AlreadyExtended))
        ),
        "a grant was extended twice"
    );
    assert!(
        matches!(
            queue.extend("b", NOW).await,
            Err(QueueError::Grant(GrantError::NoGrant))
        ),
        "a shopper never admitted extended something"
    );
    assert_eq!(
        queue
            .expire_grants(NOW + TTL_MS)
            .await
            .expect("expire failed"),
        [],
        "an extended grant expired at its first time"
    );
    let expired = queue
        .expire_grants(NOW + TTL_MS + EXTENSION_MS)
        .await
        .expect("expire failed");
    assert_eq!(expired.len(), 1, "the extended grant did not expire");
}

pub async fn a_reservation_is_idempotent_by_key_and_bounded_per_grant(queue: impl QueueCore) {
    create(&queue, 5).await;
    let grant = admit_alone(&queue, "a").await;
    join(&queue, "b").await;
    let first = queue.reserve("a", "k1", 1, NOW).await.expect("reserve");
    assert_eq!(first.reserved, 1);
    assert_eq!(
        first.stock.available, 4,
        "the first unit is the admission's own, not more stock"
    );
    assert_eq!(
        queue.reserve("a", "k1", 1, NOW).await.expect("retry"),
        first,
        "a retry was not answered as the first time"
    );
    assert!(
        matches!(
            queue.reserve("a", "k1", 2, NOW).await,
            Err(QueueError::Grant(GrantError::KeyReused))
        ),
        "a key was reused for another quantity"
    );
    let second = queue.reserve("a", "k2", 1, NOW).await.expect("reserve");
    assert_eq!((second.reserved, second.stock.available), (2, 3));
    assert!(
        matches!(
            queue.reserve("a", "k3", 1, NOW).await,
            Err(QueueError::Grant(GrantError::OverLimit {
                max: MAX_UNITS,
                reserved: 2
            }))
        ),
        "a grant held more than its limit"
    );
    assert!(
        matches!(
            queue.reserve("b", "k", 1, NOW).await,
            Err(QueueError::Grant(GrantError::NoGrant))
        ),
        "a shopper never admitted reserved"
    );
    queue.redeem(&grant, NOW).await.expect("redeem failed");
    assert!(
        matches!(
            queue.reserve("a", "k4", 1, NOW).await,
            Err(QueueError::Grant(GrantError::Redeemed))
        ),
        "a redeemed grant reserved more"
    );
    assert_eq!(
        queue.reserve("a", "k2", 1, NOW).await.expect("retry"),
        second,
        "a retry after redemption was not answered as before"
    );
}

pub async fn stock_never_goes_below_zero(queue: impl QueueCore) {
    create(&queue, 2).await;
    join(&queue, "a").await;
    join(&queue, "b").await;
    queue.admit(2, NOW).await.expect("admit failed");
    assert!(
        matches!(
            queue.reserve("a", "k", 2, NOW).await,
            Err(QueueError::Grant(GrantError::OutOfStock { available: 0 }))
        ),
        "a reservation took stock that was not there"
    );
    assert_eq!(
        queue.set_stock(1).await.expect("set stock failed"),
        Stock {
            available: 0,
            total: 1
        },
        "lowering the total took available stock below zero"
    );
    assert_eq!(
        queue.set_stock(0).await.expect("set stock failed"),
        Stock {
            available: 0,
            total: 0
        }
    );
    queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed");
    assert_eq!(
        stock_seen_by(&queue, "a").await,
        Stock {
            available: 0,
            total: 0
        },
        "expired units came back above the lowered total"
    );
    assert_eq!(
        queue.set_stock(5).await.expect("set stock failed"),
        Stock {
            available: 5,
            total: 5
        }
    );
}

pub async fn the_cursor_only_moves_forward(queue: impl QueueCore) {
    create(&queue, 5).await;
    let mut last = queue.cursor().await.expect("cursor failed");
    assert_eq!(
        last,
        Cursor { epoch: NOW, seq: 0 },
        "a new experience's cursor"
    );
    for i in 0..5 {
        join(&queue, &format!("c{i}")).await;
    }
    let joined = queue.cursor().await.expect("cursor failed");
    assert!(joined.seq >= last.seq, "joining moved the cursor back");
    last = joined;
    let admitted = queue.admit(2, NOW).await.expect("admit failed");
    let mut steps = vec![admitted.cursor];
    queue.reserve("c0", "k", 2, NOW).await.expect("reserve");
    steps.push(queue.cursor().await.expect("cursor failed"));
    queue
        .expire_grants(NOW + TTL_MS)
        .await
        .expect("expire failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    queue.set_stock(9).await.expect("set stock failed");
    steps.push(queue.cursor().await.expect("cursor failed"));
    for cursor in steps {
        assert_eq!(cursor.epoch, NOW, "the epoch changed");
        assert!(
            cursor.seq > last.seq,
            "a change of stock did not move the cursor on: {last:?} → {cursor:?}"
        );
        last = cursor;
    }
    place(&queue, "c4").await;
    assert_eq!(
        queue.cursor().await.expect("cursor failed"),
        last,
        "reading a place moved the cursor"
    );
}

pub async fn a_missed_event_is_replayed_and_a_trimmed_cursor_asks_for_a_snapshot(
    queue: impl QueueCore,
) {
    create(&queue, 5).await;
    for i in 0..3 {
        join(&queue, &format!("c{i}")).await;
    }
    let start = queue.cursor().await.expect("cursor failed");
    queue.admit(2, NOW).await.expect("admit failed");
    queue.set_stock(7).await.expect("set stock failed");
    let missed = queue
        .events_since(start)
        .await
        .expect("replay failed")
        .expect("a recent cursor asked for a snapshot");
    let replayed: Vec<(u64, ServerEvent)> = missed
        .into_iter()
        .map(|e| (e.cursor.seq, e.event))
        .collect();
    let stock = |available, total| ServerEvent::StockUpdate(Stock { available, total });
    assert_eq!(
        replayed,
        [(start.seq + 1, stock(3, 5)), (start.seq + 2, stock(5, 7))],
        "the missed broadcasts were not replayed in order"
    );
    let now = queue.cursor().await.expect("cursor failed");
    assert_eq!(
        queue.events_since(now).await.expect("replay failed"),
        Some(Vec::new()),
        "an up-to-date cursor got events"
    );
    // Well past what either log keeps.
    for total in 0..(HISTORY as u64 + 500) {
        queue.set_stock(8 + total).await.expect("set stock failed");
    }
    assert_eq!(
        queue.events_since(start).await.expect("replay failed"),
        None,
        "a cursor older than the log was replayed with a gap"
    );
    let latest = queue.cursor().await.expect("cursor failed");
    let recent = Cursor {
        seq: latest.seq - 5,
        ..latest
    };
    assert_eq!(
        queue
            .events_since(recent)
            .await
            .expect("replay failed")
            .map(|e| e.len()),
        Some(5),
        "the recent events were not kept"
    );
    for foreign in [
        Cursor {
            epoch: NOW - 1,
            ..recent
        },
        Cursor {
            seq: latest.seq + 1,
            ..latest
        },
    ] {
        assert_eq!(
            queue.events_since(foreign).await.expect("replay failed"),
            None,
            "{foreign:?} (another epoch, or the future) was replayed"
        );
    }
}

/// Where the back ends differed: nobody uses a grant past its time, its units come back as
/// soon as any call meets it (not at the next tick), and the next expiry reports it once so
/// its shopper is told.
pub async fn a_grant_past_its_time_is_refused_its_units_come_back_at_once_and_its_expiry_is_reported(
    queue: impl QueueCore,
) {
    create(&queue, 3).await;
    join(&queue, "a").await;
    join(&queue, "b").await;
    let admitted = queue.admit(2, NOW).await.expect("admit failed");
    let grant_a = admitted.shoppers[0].admission.grant.clone();
    assert_eq!(stock_seen_by(&queue, "a").await.available, 1);
    let late = NOW + TTL_MS;
    assert!(
        matches!(
            queue.redeem(&grant_a, late).await,
            Err(QueueError::Redeem(RedeemError::Expired))
        ),
        "a grant past its time was redeemed"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        3,
        "the units of the grants due did not come back at once"
    );
    for consumer in ["a", "b"] {
        assert_eq!(
            grant_status(&place(&queue, consumer).await),
            Some(AdmissionStatus::Expired),
            "{consumer}'s grant past its time still looks active"
        );
    }
    assert!(
        matches!(
            queue.extend("a", late).await,
            Err(QueueError::Grant(GrantError::Expired))
        ),
        "a grant past its time was extended"
    );
    assert!(
        matches!(
            queue.reserve("b", "k", 1, late).await,
            Err(QueueError::Grant(GrantError::Expired))
        ),
        "a grant past its time reserved stock"
    );
    assert_eq!(
        queue.leave("a", late).await.expect("leave failed"),
        Departure::Nothing,
        "leaving released a grant that had ended"
    );
    let mut reported: Vec<String> = queue
        .expire_grants(late)
        .await
        .expect("expire failed")
        .into_iter()
        .map(|e| e.consumer)
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        ["a", "b"],
        "the expiry did not report the grants ended earlier"
    );
    assert_eq!(
        queue.expire_grants(late).await.expect("expire failed"),
        [],
        "an expiry was reported twice"
    );
    assert_eq!(
        stock_seen_by(&queue, "a").await.available,
        3,
        "the units came back twice"
    );
}
