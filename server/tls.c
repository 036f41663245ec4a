/* The certificate GnuTLS presents, replaceable at run time: a retrieve
 * callback reads the current credentials under a lock. Replaced ones are
 * kept until shutdown, since a handshake in progress may hold them; a
 * renewal every few weeks makes that a few kilobytes a year. */
#include "tls.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xalloc.h"

#define TLS_MAX_CHAIN 16
#define TLS_MAX_FILE (1024 * 1024)

struct tls_creds {
	gnutls_pcert_st certs[TLS_MAX_CHAIN];
	unsigned ncerts;
	gnutls_privkey_t key;
	struct tls_creds *older;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_creds *current;

static void
creds_free(struct tls_creds *c)
{
	for (unsigned i = 0; i < c->ncerts; i++)
		gnutls_pcert_deinit(&c->certs[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

static int
read_pem(const char *path, struct buf *b, const char **error_r)
{
	buf_init(b, TLS_MAX_FILE);
	if (buf_read_path(b, path, error_r) < 0) {
		buf_deinit(b);
		return -1;
	}
	return 0;
}

int
tls_creds_load(const char *cert_path, const char *key_path,
	       const char **error_r)
{
	struct tls_creds *c = xcalloc(1, sizeof(*c));
	struct buf cert, key;
	gnutls_datum_t d;
	int rc;

	if (read_pem(cert_path, &cert, error_r) < 0) {
		free(c);
		return -1;
	}
	if (read_pem(key_path, &key, error_r) < 0) {
		buf_deinit(&cert);
		free(c);
		return -1;
	}
	c->ncerts = TLS_MAX_CHAIN;
	d.data = cert.data;
	d.size = (unsigned)cert.len;
	rc = gnutls_pcert_list_import_x509_raw(c->certs, &c->ncerts, &d,
					       GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || c->ncerts == 0) {
		c->ncerts = 0;
		*error_r = "the certificate file holds no PEM certificate";
		goto fail;
	}
	d.data = key.data;
	d.size = (unsigned)key.len;
	if (gnutls_privkey_init(&c->key) < 0 ||
	    gnutls_privkey_import_x509_raw(c->key, &d, GNUTLS_X509_FMT_PEM,
					   NULL, 0) < 0) {
		*error_r = "the key file holds no PEM private key";
		goto fail;
	}
	/* the key must be the certificate's */
	{
		gnutls_pubkey_t a = NULL;
		gnutls_datum_t da = {NULL, 0}, db = {NULL, 0};
		bool same = false;

		if (gnutls_pubkey_init(&a) == 0 &&
		    gnutls_pubkey_import_privkey(a, c->key, 0, 0) == 0 &&
		    gnutls_pubkey_export2(a, GNUTLS_X509_FMT_DER, &da) == 0 &&
		    gnutls_pubkey_export2(c->certs[0].pubkey,
					  GNUTLS_X509_FMT_DER, &db) == 0)
			same = da.size == db.size &&
			       memcmp(da.data, db.data, da.size) == 0;
		gnutls_free(da.data);
		gnutls_free(db.data);
		if (a != NULL)
			gnutls_pubkey_deinit(a);
		if (!same) {
			*error_r = "the key does not belong to the certificate";
			goto fail;
		}
	}
	buf_deinit(&cert);
	buf_deinit(&key);
	pthread_mutex_lock(&lock);
	c->older = current;
	current = c;
	pthread_mutex_unlock(&lock);
	return 0;
fail:
	buf_deinit(&cert);
	buf_deinit(&key);
	creds_free(c);
	return -1;
}

/* gnutls_certificate_retrieve_function2 */
static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
	 const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
	 gnutls_pcert_st **pcert, unsigned int *pcert_length,
	 gnutls_privkey_t *privkey)
{
	(void)session;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&lock);
	if (current == NULL) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	*pcert = current->certs;
	*pcert_length = current->ncerts;
	*privkey = current->key;
	pthread_mutex_unlock(&lock);
	return 0;
}

void *
tls_cert_callback(void)
{
	gnutls_certificate_retrieve_function2 *fn = retrieve;

	return (void *)fn;
}

void
tls_creds_free(void)
{
	pthread_mutex_lock(&lock);
	while (current != NULL) {
		struct tls_creds *older = current->older;

		creds_free(current);
		current = older;
	}
	pthread_mutex_unlock(&lock);
}
