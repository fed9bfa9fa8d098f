/* The store's background threads' common part (see bg_int.h). */
#include "config.h"

#include "store/bg_int.h"

#include <string.h>
#include <time.h>

void
mm_bg_init(struct mm_bg *b)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->wake, NULL);
}

void
mm_bg_fini(struct mm_bg *b)
{
    mm_bg_stop(b);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->lock);
}

int
mm_bg_start(struct mm_bg *b, void *(*fn)(void *), void *arg)
{
    int rc = 0;

    pthread_mutex_lock(&b->lock);
    if (!b->started) {
        b->stop = false;
        rc = pthread_create(&b->thread, NULL, fn, arg);
        b->started = rc == 0;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void
mm_bg_stop(struct mm_bg *b)
{
    bool join;

    pthread_mutex_lock(&b->lock);
    join = b->started;
    b->stop = true;
    b->started = false;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (join) {
        pthread_join(b->thread, NULL);
    }
}

bool
mm_bg_started(struct mm_bg *b)
{
    bool started;

    pthread_mutex_lock(&b->lock);
    started = b->started;
    pthread_mutex_unlock(&b->lock);
    return started;
}

void
mm_bg_kick(struct mm_bg *b)
{
    pthread_mutex_lock(&b->lock);
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
}

bool
mm_bg_wait_locked(struct mm_bg *b, unsigned ms)
{
    struct timespec until;

    if (b->stop) {
        return false;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&b->wake, &b->lock, &until);
    return !b->stop;
}
