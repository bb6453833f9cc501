//! An event stream's frames, reachable by the front without the router's body layers.
//!
//! An answer's body goes out through every layer the router has (access log, CORS,
//! security headers, panic catching), each wrapping the body once more: five `poll_frame`
//! calls per frame, for layers that only act on the head. Profiled at 10,000 streams, they
//! were a quarter of the node's user-space time per delivery. So an event stream's handler
//! ([`crate::routes::sse::event_stream`]) puts its frames in a [`Frames`] slot, shared by
//! the answer's extensions and its body:
//!
//! - the front takes them from the extensions ([`Frames::take`]) and writes them itself;
//!   the layered body, asked for nothing, is dropped;
//! - served by hyper instead, the body takes them from the slot on its first poll, and the
//!   answer goes through the layers as before.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

/// The frames of an event stream, boxed.
pub type BoxFrames = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// The slot an event stream's frames wait in until the front or the body takes them.
#[derive(Clone)]
pub struct Frames(Arc<Mutex<Option<BoxFrames>>>);

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Frames")
    }
}

impl Frames {
    /// A slot holding `frames`, and the body stream that takes them if the front does not.
    pub fn new(frames: impl Stream<Item = Bytes> + Send + 'static) -> (Self, FromSlot) {
        let slot = Self(Arc::new(Mutex::new(Some(Box::pin(frames)))));
        let body = FromSlot {
            slot: Some(slot.clone()),
            frames: None,
        };
        (slot, body)
    }

    /// The frames, unless the body took them first.
    pub fn take(&self) -> Option<BoxFrames> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

/// The body's side: the frames taken from the slot on the first poll (none if the front
/// took them).
pub struct FromSlot {
    slot: Option<Frames>,
    frames: Option<BoxFrames>,
}

impl Stream for FromSlot {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(slot) = self.slot.take() {
            self.frames = slot.take();
        }
        match self.frames.as_mut() {
            Some(frames) => frames.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use futures_util::stream;

    fn frames() -> (Frames, FromSlot) {
        Frames::new(stream::iter([
            Bytes::from_static(b"a"),
            Bytes::from_static(b"b"),
        ]))
    }

    #[tokio::test]
    async fn taken_by_the_front_the_body_is_empty() {
        let (slot, body) = frames();
        let taken: Vec<_> = slot.take().expect("the frames are there").collect().await;
        assert_eq!(taken, ["a", "b"]);
        assert_eq!(body.collect::<Vec<_>>().await.len(), 0);
    }

    #[tokio::test]
    async fn polled_first_by_the_body_the_front_finds_none() {
        let (slot, mut body) = frames();
        assert_eq!(body.next().await.as_deref(), Some(&b"a"[..]));
        assert!(slot.take().is_none());
        assert_eq!(body.next().await.as_deref(), Some(&b"b"[..]));
        assert!(body.next().await.is_none());
    }
}
