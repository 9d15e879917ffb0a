//! Every error the pool hands out is a `std::error::Error + Send + Sync +
//! 'static`, so `?` takes it into `Box<dyn Error + Send + Sync>` (and so
//! into `anyhow::Error`), those that hand a job back included; and a
//! failure report keeps its message and its job's id through the box.

use std::error::Error;

use worklight::{
    BuildError, ExileError, Exit, Inbox, Job, JobError, Panic, PutError, PutTimeoutError,
    TryPutError, WaitError, WorkerPool,
};

type Boxed = Box<dyn Error + Send + Sync + 'static>;

fn boxed<E: Error + Send + Sync + 'static>(result: Result<(), E>) -> Result<(), Boxed> {
    result?;
    Ok(())
}

#[test]
fn every_error_type_is_send_sync_and_boxes_with_the_question_mark() {
    type J = Job<'static, u32>;
    fn is_boxable<E: Error + Send + Sync + 'static>() {}
    fn is_send_sync<T: Send + Sync + 'static>() {}
    is_boxable::<JobError>();
    is_boxable::<Panic>();
    is_boxable::<BuildError>();
    is_boxable::<PutError<J>>();
    is_boxable::<TryPutError<J>>();
    is_boxable::<PutTimeoutError<J>>();
    is_boxable::<ExileError<J>>();
    is_boxable::<WaitError>();
    is_send_sync::<Exit<J>>();
    is_send_sync::<J>();
}

#[test]
fn a_job_failure_and_a_panic_keep_their_message_through_the_box() {
    let pool = WorkerPool::<u32>::new(1).unwrap();
    let failing = pool
        .inbox
        .put(Job::fallible(|| "x".parse::<u32>()).label("parse"))
        .unwrap();
    pool.inbox.put(|| panic!("disk on fire")).unwrap();
    pool.exile().unwrap();
    let mut failures: Vec<JobError> = pool.errbox.iter().collect();
    failures.sort_by_key(|f| f.id());
    let panic = failures.pop().unwrap().into_panic().unwrap();
    let failure = failures.pop().unwrap();
    assert_eq!(failure.id(), failing);

    let shown = boxed(Err(failure)).unwrap_err().to_string();
    assert!(
        shown.contains("parse") && shown.contains(&format!("{failing}")),
        "{shown}"
    );
    let shown = boxed(Err(panic)).unwrap_err().to_string();
    assert_eq!(shown, "disk on fire");
}

#[test]
fn a_refused_job_comes_back_out_of_the_box() {
    let inbox: Inbox<Job<'static, u32>> = Inbox::new();
    let pool = WorkerPool::builder()
        .workers(1)
        .inbox(inbox.clone())
        .build()
        .unwrap();
    pool.exile().unwrap();
    let refused = boxed(inbox.put(|| 7).map(drop)).unwrap_err();
    let back = refused.downcast::<PutError<Job<'static, u32>>>().unwrap();
    assert_eq!(back.into_inner().run(&mut ()).unwrap(), 7);
}
