//! Grant rules: shape, expiry, the one extension, units reserved and released.

use super::*;

#[test]
fn grant_shape_is_checked() {
    assert!(is_grant_shaped(&new_grant()));
    assert!(!is_grant_shaped("g_xyz"));
    assert!(!is_grant_shaped(""));
}

#[test]
fn a_grant_expires_at_its_time_and_not_before() {
    let mut grants = Grants::new(rules(2));
    let issued = grants.issue("c".into(), 0);
    assert!(grants.expire_due(99).is_empty(), "expired early");
    assert_eq!(grants.expire_due(100).len(), 1, "did not expire on time");
    assert_eq!(grants.redeem(&issued.grant), Err(RedeemError::Expired));
    assert_eq!((grants.active_count(), grants.expired()), (0, 1));
}

fn rules(max_units: u64) -> GrantRules {
    GrantRules {
        ttl_ms: 100,
        extension_ms: 50,
        max_units,
    }
}

#[test]
fn an_extended_grant_expires_at_its_new_time_and_extends_once() {
    let mut grants = Grants::new(rules(2));
    let early = grants.issue("a".into(), 0);
    let late = grants.issue("b".into(), 10);
    assert_eq!(grants.extend(&early.grant), Ok(150));
    assert_eq!(
        grants.extend(&early.grant),
        Err(GrantError::AlreadyExtended)
    );
    let due: Vec<_> = grants
        .expire_due(120)
        .into_iter()
        .map(|r| r.consumer)
        .collect();
    assert_eq!(
        due,
        [Arc::<str>::from("b")],
        "the extension was not honoured"
    );
    assert_eq!(grants.expire_due(150).len(), 1);
    assert_eq!(grants.extend(&late.grant), Err(GrantError::Expired));
}

#[test]
fn the_first_reserved_unit_is_the_admissions_and_the_rest_come_from_stock() {
    let mut grants = Grants::new(rules(3));
    let g = grants.issue("a".into(), 0).grant;
    let mut stock = Stock {
        available: 1,
        total: 2,
    };
    let first = grants.reserve(&g, "k1", 1, &mut stock).unwrap();
    assert_eq!((first.answer.reserved, first.stock_changed), (1, false));
    assert_eq!(
        stock.available, 1,
        "the admission's own unit was taken twice"
    );
    let second = grants.reserve(&g, "k2", 1, &mut stock).unwrap();
    assert_eq!((second.answer.reserved, stock.available), (2, 0));
    assert_eq!(
        grants.reserve(&g, "k3", 1, &mut stock),
        Err(GrantError::OutOfStock { available: 0 })
    );
    let retry = grants.reserve(&g, "k2", 1, &mut stock).unwrap();
    assert_eq!((retry.answer, retry.stock_changed), (second.answer, false));
    assert_eq!(
        grants.release(&g),
        Some(2),
        "a release returns every unit held"
    );
    assert_eq!(grants.release(&g), None);
}
