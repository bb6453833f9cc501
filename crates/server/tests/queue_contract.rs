//! One contract for both queue back ends (issue 11): every behaviour of
//! `engine::core::QueueCore` is written once, in `queue_contract/behaviours.rs`, as a
//! generic function over `impl QueueCore`, and run here against the in-memory rules
//! (`mod memory`) and the Redis core (`mod redis`, each test on a redis-server of its own).
//!
//! Time is passed in (`now`), so nothing sleeps. Without `/usr/bin/redis-server` the Redis
//! half fails and says how to install it.

#[path = "queue_contract/backends.rs"]
mod backends;
#[path = "queue_contract/behaviours.rs"]
mod behaviours;
#[path = "redis_queue/server.rs"]
#[allow(dead_code)] // restarts and persistence are for `redis_queue.rs`, not this suite
mod server;
#[path = "queue_contract/setup.rs"]
mod setup;

/// Instantiates each behaviour for both back ends, under the behaviour's own name.
macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        /// The in-memory rules (`MemoryQueue` over `ExperienceState`).
        mod memory {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    crate::behaviours::$behaviour(crate::backends::memory()).await;
                }
            )*
        }

        /// The Redis core (`RedisQueue`), on a redis-server of the test's own.
        mod redis {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let (_server, queue) = crate::backends::redis().await;
                    crate::behaviours::$behaviour(queue).await;
                }
            )*
        }
    };
}

contract!(
    joining_hands_out_tickets_in_join_order_and_a_known_shopper_keeps_one_place,
    leaving_the_line_moves_those_behind_up_and_a_stranger_cannot_leave,
    leaving_after_admission_gives_the_grant_s_units_back_once,
    admissions_follow_join_order_and_skip_those_who_left,
    admissions_are_bounded_by_stock_and_the_line,
    admissions_at_the_rate_admit_what_each_tick_is_due,
    a_closed_experience_takes_no_new_shoppers_and_admits_nobody,
    an_expired_grant_returns_its_units_to_stock_and_is_reported_once,
    a_grant_is_redeemed_once,
    a_grant_is_extended_once_and_expires_at_its_new_time,
    a_reservation_is_idempotent_by_key_and_bounded_per_grant,
    stock_never_goes_below_zero,
    the_cursor_only_moves_forward,
    a_missed_event_is_replayed_and_a_trimmed_cursor_asks_for_a_snapshot,
    a_grant_past_its_time_is_refused_its_units_come_back_at_once_and_its_expiry_is_reported,
);
