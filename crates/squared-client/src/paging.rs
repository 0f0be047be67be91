//! Reading a paged list whole.
//!
//! The API lists one page at a time (`page`, `per_page`, and `links.next` null on the last
//! page). The client generator implements [`PageList`] for the builder of every such operation
//! (`impl crate::PageList for builder::ListConnectors`), so `.stream()` works on each of them,
//! and on any list a later spec adds in the same shape.

use std::num::NonZeroU64;

use futures::{Stream, TryStreamExt, stream};
use progenitor_client::Error;

/// One page's items, and whether a page follows; or the page's error.
pub type PageResult<T, E> = Result<(Vec<T>, bool), Error<E>>;

/// The builder of a request for one page of a list.
pub trait PageList: Clone + Send + Sized {
    /// What the list holds.
    type Item: Send;
    /// The body of the operation's error answers.
    type Error: Send;

    /// The same request for page `page` (counted from 1).
    fn at_page(self, page: NonZeroU64) -> Self;

    /// Sends the request: the page's items, and whether a page follows.
    fn fetch(self) -> impl Future<Output = PageResult<Self::Item, Self::Error>> + Send;

    /// Every item of the list, from page 1 on, fetching each page when the items before it
    /// have been read (`per_page` as set on the builder). A failed page ends the stream with
    /// its error. Pages are read by number, so an item added or removed while the stream is
    /// read can move another across a page boundary (seen twice, or not at all).
    fn stream(self) -> impl Stream<Item = Result<Self::Item, Error<Self::Error>>> + Send + Unpin {
        let pages = stream::try_unfold(Some((self, NonZeroU64::MIN)), |state| async move {
            let Some((request, page)) = state else { return Ok::<_, Error<Self::Error>>(None) };
            let (items, more) = request.clone().at_page(page).fetch().await?;
            let next = match (more, page.checked_add(1)) {
                (true, Some(next)) => Some((request, next)),
                _ => None,
            };
            Ok(Some((stream::iter(items.into_iter().map(Ok)), next)))
        });
        // Boxed so the stream can be polled where it stands (`while let … = s.try_next()`).
        Box::pin(pages.try_flatten())
    }
}
