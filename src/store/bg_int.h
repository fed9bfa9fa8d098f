#ifndef MMEM_STORE_BG_INT_H
#define MMEM_STORE_BG_INT_H

/* A background thread of the store (the page mover, the crawler): its
 * mutex, which also guards the owner's request fields, a condition to wake
 * it, and start/stop. The thread's loop waits with mm_bg_wait_locked and
 * leaves when it returns false. */

#include <pthread.h>
#include <stdbool.h>

struct mm_bg {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool started;
    bool stop;
};

void mm_bg_init(struct mm_bg *b);
/* Stops the thread if it runs. */
void mm_bg_fini(struct mm_bg *b);
/* Start fn(arg) unless already started; 0 or an errno. */
int mm_bg_start(struct mm_bg *b, void *(*fn)(void *), void *arg);
/* Ask the thread to stop, wake it and join it. */
void mm_bg_stop(struct mm_bg *b);
bool mm_bg_started(struct mm_bg *b);
/* Wake the thread (takes the lock). */
void mm_bg_kick(struct mm_bg *b);
/* Caller holds b->lock: wait until kicked or ms have passed. Returns false
 * once the thread is asked to stop. */
bool mm_bg_wait_locked(struct mm_bg *b, unsigned ms);

#endif
