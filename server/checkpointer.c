/* The checkpointer (checkpointer.h). One per process: the store calls its
 * kick from any commit, so its state is static. A kick while it works is
 * remembered and answered by one more checkpoint. */
#include <pthread.h>
#include <stdbool.h>

#include "checkpointer.h"
#include "log.h"
#include "store.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, kicked, stopping;
	struct store *store;
} ck = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void
kick(void)
{
	pthread_mutex_lock(&ck.mu);
	if (!ck.kicked) {
		ck.kicked = true;
		pthread_cond_signal(&ck.cond);
	}
	pthread_mutex_unlock(&ck.mu);
}

static void *
checkpointer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ck.mu);
	while (!ck.stopping) {
		enum store_error e;

		if (!ck.kicked) {
			pthread_cond_wait(&ck.cond, &ck.mu);
			continue;
		}
		ck.kicked = false;
		pthread_mutex_unlock(&ck.mu);
		if ((e = store_checkpoint(ck.store)) != STORE_OK)
			log_warn("checkpointer: %s (the next commit past the "
				 "threshold asks again)",
				 store_error_str(e));
		pthread_mutex_lock(&ck.mu);
	}
	pthread_mutex_unlock(&ck.mu);
	return NULL;
}

int
checkpointer_start(const char *db_path, const char **error_r)
{
	if (ck.running)
		return 0;
	if (store_open(db_path, &ck.store, error_r) != STORE_OK)
		return -1;
	ck.stopping = false;
	ck.kicked = false;
	if (pthread_create(&ck.thread, NULL, checkpointer_main, NULL) != 0) {
		*error_r = "cannot start the checkpointer thread";
		store_close(&ck.store);
		return -1;
	}
	ck.running = true;
	store_checkpoints_elsewhere(kick);
	return 0;
}

void
checkpointer_stop(void)
{
	if (!ck.running)
		return;
	pthread_mutex_lock(&ck.mu);
	ck.stopping = true;
	pthread_cond_signal(&ck.cond);
	pthread_mutex_unlock(&ck.mu);
	pthread_join(ck.thread, NULL);
	ck.running = false;
	store_close(&ck.store);
}
