//! Runs a request's future to its end, polling it at once and again as soon as it is
//! woken, inside the callback that woke it. wasm-bindgen's executor (behind
//! `future_to_promise`, which `#[event(fetch)]` uses) makes a `Promise` through a Rust
//! closure, and defers the first poll and every wake-up through `queueMicrotask`; a
//! request that awaits once paid for three extra trips across the boundary. Work that
//! outlives the response (`ctx.wait_until`) still goes through it.
//!
//! wasm is single-threaded: a task is shared with `Rc`, and a wake-up that arrives while
//! the task is being polled (a future that wakes itself) only asks for another poll.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

struct Task {
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    polling: Cell<bool>,
    woken: Cell<bool>,
}

/// Starts `future`: it is polled before this returns, and then whenever it is woken.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    let task = Rc::new(Task {
        future: RefCell::new(Some(Box::pin(future))),
        polling: Cell::new(false),
        woken: Cell::new(false),
    });
    run(&task);
}

fn run(task: &Rc<Task>) {
    if task.polling.get() {
        task.woken.set(true);
        return;
    }
    task.polling.set(true);
    loop {
        task.woken.set(false);
        let waker = waker(task);
        let mut cx = Context::from_waker(&waker);
        let mut slot = task.future.borrow_mut();
        let ready = match slot.as_mut() {
            Some(future) => future.as_mut().poll(&mut cx).is_ready(),
            None => true,
        };
        if ready {
            // Dropped outside the borrow: a drop that wakes this task finds it polling.
            let finished = slot.take();
            drop(slot);
            drop(finished);
            break;
        }
        drop(slot);
        if !task.woken.get() {
            break;
        }
    }
    task.polling.set(false);
}

fn waker(task: &Rc<Task>) -> Waker {
    let raw = RawWaker::new(Rc::into_raw(task.clone()).cast(), &VTABLE);
    // SAFETY: the vtable's functions treat the pointer as the `Rc<Task>` it came from,
    // and the waker never leaves this thread (wasm has one).
    unsafe { Waker::from_raw(raw) }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

// SAFETY (all four): `data` is a pointer from `Rc::into_raw` that owns one count.
unsafe fn clone(data: *const ()) -> RawWaker {
    Rc::increment_strong_count(data.cast::<Task>());
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    let task = Rc::from_raw(data.cast::<Task>());
    run(&task);
}

unsafe fn wake_by_ref(data: *const ()) {
    let task = ManuallyDrop::new(Rc::from_raw(data.cast::<Task>()));
    run(&task);
}

unsafe fn drop_waker(data: *const ()) {
    drop(Rc::from_raw(data.cast::<Task>()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Poll;

    /// A future that is ready only after waking itself once (tests the re-poll).
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn a_ready_future_runs_before_spawn_returns() {
        let done = Rc::new(Cell::new(false));
        let flag = done.clone();
        spawn(async move { flag.set(true) });
        assert!(done.get());
    }

    #[test]
    fn a_future_that_wakes_itself_while_polled_is_polled_again() {
        let done = Rc::new(Cell::new(0));
        let count = done.clone();
        spawn(async move {
            YieldOnce(false).await;
            YieldOnce(false).await;
            count.set(count.get() + 1);
        });
        assert_eq!(done.get(), 1);
    }

    #[test]
    fn a_woken_task_is_polled_inside_the_wake() {
        let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
        let done = Rc::new(Cell::new(false));
        struct Later(Rc<RefCell<Option<Waker>>>, bool);
        impl Future for Later {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                if self.1 {
                    return Poll::Ready(());
                }
                self.1 = true;
                *self.0.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
        let (slot, flag) = (stored.clone(), done.clone());
        spawn(async move {
            Later(slot, false).await;
            flag.set(true);
        });
        assert!(!done.get());
        let waker = stored.borrow_mut().take().unwrap();
        waker.wake();
        assert!(done.get());
    }
}
