/* The HTTPS listener's certificate, handed to GnuTLS at each handshake so
 * that it can be replaced while easd runs (SIGHUP after a renewal):
 * connections already open keep theirs, new ones get the new one. */
#ifndef EASD_TLS_H
#define EASD_TLS_H

/* Read the PEM certificate chain and key and make them the ones new
 * handshakes use. The ones they replace stay valid until tls_creds_free
 * (a handshake may be using them). Returns 0, or -1 with *error_r (static)
 * and the previous ones still in use. */
int tls_creds_load(const char *cert_path, const char *key_path,
		   const char **error_r);
/* The function libmicrohttpd gets as MHD_OPTION_HTTPS_CERT_CALLBACK (a
 * gnutls_certificate_retrieve_function2). */
void *tls_cert_callback(void);
/* Release every certificate loaded (at shutdown). */
void tls_creds_free(void);

#endif
