//! Rendering and writing a large model spread over the cores: the contexts render
//! independently and the files are written independently, and both are most of the time of
//! a generation at 1,000 aggregates.

/// `f` of every item, in the items' order, on up to one thread per core (each takes a
/// contiguous run of items, so the result needs no sorting and the output stays
/// byte-identical whatever the core count).
pub(crate) fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads == 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let runs: Vec<_> = items
            .chunks(chunk)
            .map(|run| scope.spawn(move || run.iter().map(f).collect::<Vec<R>>()))
            .collect();
        runs.into_iter()
            .flat_map(|run| match run.join() {
                Ok(results) => results,
                // A panic in `f` is a bug of ours: the caller's thread reports it as its own.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<usize> = (0..1_001).collect();
        let doubled = super::map(&items, |n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(super::map(&[] as &[usize], |n| *n).is_empty());
    }
}
