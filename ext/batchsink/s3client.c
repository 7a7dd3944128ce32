/* batchsink: a small S3 client for one bucket, on libcurl, which signs
 * every request itself (CURLOPT_AWS_SIGV4); the payload's SHA-256 is sent
 * as x-amz-content-sha256, so the store checks every byte.
 *
 * - An object up to the part size is one PUT; a larger file is a
 *   multipart upload (create, one PUT per part read from the file, so only
 *   one part is in memory, complete) that is aborted when a part or the
 *   completion fails, leaving no half object.
 * - Each request is tried up to ATTEMPTS times, waiting 100 ms, 200 ms,
 *   400 ms... between tries, on connection errors, timeouts, 5xx and 429;
 *   other statuses fail at once. Errors name the object (s3://bucket/key)
 *   and carry the store's error code and message, never the request's
 *   headers (they hold the signature and session token).
 * - Counters: every HTTP request sent (retries included, and curl's own
 *   resends on a kept-alive connection that died) and its body bytes.
 * Not thread-safe: one client per writer thread (the counters are locked,
 * other threads may read them).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "s3client.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <string.h>

#define ATTEMPTS 5
#define FIRST_BACKOFF_US (100 * 1000)

struct _OpS3Client
{
  OpS3Config *config;
  gchar *bucket;
  guint64 part_size;
  CURL *curl;
  gchar *sigv4;                 /* "aws:amz:<region>:s3" */
  GMutex lock;                  /* counters */
  guint64 requests;
  guint64 bytes;
};

typedef struct
{
  OpS3Client *client;
  const gchar *method;          /* PUT POST DELETE HEAD */
  const gchar *key;             /* NULL: the bucket */
  const gchar *query;           /* NULL or "uploads=", "partNumber=1&..." */
  const guint8 *body;
  gsize len;
  gsize sent;
  /* out */
  glong status;
  GString *response;
  gchar *etag;
} Request;

OpS3Client *
op_s3_client_new (OpS3Config * config, const gchar * bucket, guint64 part_size)
{
  OpS3Client *c = g_new0 (OpS3Client, 1);

  curl_global_init (CURL_GLOBAL_DEFAULT);
  c->config = config;
  c->bucket = g_strdup (bucket);
  c->part_size = part_size;
  c->curl = curl_easy_init ();
  c->sigv4 = g_strdup_printf ("aws:amz:%s:s3", config->region);
  g_mutex_init (&c->lock);
  return c;
}

void
op_s3_client_free (OpS3Client * c)
{
  if (!c)
    return;
  curl_easy_cleanup (c->curl);
  op_s3_config_free (c->config);
  g_free (c->bucket);
  g_free (c->sigv4);
  g_mutex_clear (&c->lock);
  g_free (c);
}

void
op_s3_client_counters (OpS3Client * c, guint64 * requests, guint64 * bytes)
{
  g_mutex_lock (&c->lock);
  *requests = c->requests;
  *bytes = c->bytes;
  g_mutex_unlock (&c->lock);
}

/* Path-style for a configured endpoint (MinIO, Ceph, GCS, s3rver),
 * virtual-hosted for AWS. */
static gchar *
request_url (OpS3Client * c, const Request * r)
{
  GString *u = g_string_new (NULL);

  if (c->config->endpoint)
    g_string_append_printf (u, "%s/%s/", c->config->endpoint, c->bucket);
  else
    g_string_append_printf (u, "https://%s.s3.%s.amazonaws.com/", c->bucket,
        c->config->region);
  if (r->key)
    g_string_append (u, r->key);
  if (r->query)
    g_string_append_printf (u, "?%s", r->query);
  return g_string_free (u, FALSE);
}

static size_t
read_body (char *buf, size_t size, size_t n, void *user_data)
{
  Request *r = user_data;
  gsize k = MIN (size * n, r->len - r->sent);

  memcpy (buf, r->body + r->sent, k);
  r->sent += k;
  return k;
}

/* curl resends a request by itself when a kept-alive connection turns out
 * dead: it rewinds the body through this */
static int
seek_body (void *user_data, curl_off_t offset, int origin)
{
  Request *r = user_data;

  if (origin != SEEK_SET || offset < 0 || (gsize) offset > r->len)
    return CURL_SEEKFUNC_FAIL;
  r->sent = offset;
  return CURL_SEEKFUNC_OK;
}

/* Called before each request goes out, curl's own resends included, so
 * the counters are what the store saw. */
static int
count_request (void *user_data, char *primary_ip, char *local_ip,
    int primary_port, int local_port)
{
  Request *r = user_data;
  OpS3Client *c = r->client;

  g_mutex_lock (&c->lock);
  c->requests++;
  c->bytes += r->len;
  g_mutex_unlock (&c->lock);
  return CURL_PREREQFUNC_OK;
}

static size_t
write_response (char *buf, size_t size, size_t n, void *user_data)
{
  Request *r = user_data;

  /* error documents and upload ids are small; never keep megabytes */
  if (r->response->len < 64 * 1024)
    g_string_append_len (r->response, buf, size * n);
  return size * n;
}

static size_t
read_header (char *buf, size_t size, size_t n, void *user_data)
{
  Request *r = user_data;
  gsize len = size * n;

  if (len > 5 && g_ascii_strncasecmp (buf, "etag:", 5) == 0) {
    g_free (r->etag);
    r->etag = g_strstrip (g_strndup (buf + 5, len - 5));
  }
  return len;
}

static struct curl_slist *
request_headers (OpS3Client * c, const Request * r)
{
  struct curl_slist *h = NULL;
  gchar *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      r->body ? r->body : (const guint8 *) "", r->len);
  gchar *line = g_strdup_printf ("x-amz-content-sha256: %s", sha);

  h = curl_slist_append (h, line);
  g_free (line);
  g_free (sha);
  if (c->config->session_token) {
    line = g_strdup_printf ("x-amz-security-token: %s",
        c->config->session_token);
    h = curl_slist_append (h, line);
    memset (line, 0, strlen (line));
    g_free (line);
  }
  /* no "Expect:" removal here: curl 7.88 would sign the removed header */
  if (r->body && strcmp (r->method, "POST") == 0)
    h = curl_slist_append (h, "Content-Type: application/xml");
  return h;
}

/* One HTTP exchange. Returns the curl result; r->status is 0 when no
 * response came. */
static CURLcode
send_once (OpS3Client * c, Request * r, gchar * errbuf)
{
  CURL *h = c->curl;
  gchar *url = request_url (c, r);
  struct curl_slist *headers = request_headers (c, r);
  CURLcode rc;

  curl_easy_reset (h);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 10L);
  /* a stalled store: under 1 byte/s for 30 s is a (retried) timeout */
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt (h, CURLOPT_AWS_SIGV4, c->sigv4);
  curl_easy_setopt (h, CURLOPT_USERNAME, c->config->access_key);
  curl_easy_setopt (h, CURLOPT_PASSWORD, c->config->secret_key);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, write_response);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (h, CURLOPT_PREREQFUNCTION, count_request);
  curl_easy_setopt (h, CURLOPT_PREREQDATA, r);
  r->sent = 0;
  if (strcmp (r->method, "PUT") == 0) {
    curl_easy_setopt (h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (h, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt (h, CURLOPT_READDATA, r);
    curl_easy_setopt (h, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt (h, CURLOPT_SEEKDATA, r);
    curl_easy_setopt (h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) r->len);
  } else if (strcmp (r->method, "POST") == 0) {
    curl_easy_setopt (h, CURLOPT_POST, 1L);
    curl_easy_setopt (h, CURLOPT_POSTFIELDS, r->body ? (const char *) r->body
        : "");
    curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->len);
  } else if (strcmp (r->method, "HEAD") == 0) {
    curl_easy_setopt (h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, r->method);
  }
  errbuf[0] = '\0';
  g_string_truncate (r->response, 0);
  rc = curl_easy_perform (h);
  r->status = 0;
  if (rc == CURLE_OK)
    curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all (headers);
  g_free (url);
  return rc;
}

static gboolean
transient (CURLcode rc, glong status)
{
  if (rc != CURLE_OK)
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST
        || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR
        || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING
        || rc == CURLE_PARTIAL_FILE || rc == CURLE_SSL_CONNECT_ERROR;
  return status >= 500 || status == 429;
}

/* The text of <tag> in an S3 XML document, or %NULL. */
static gchar *
xml_text (const gchar * doc, const gchar * tag)
{
  gchar *open = g_strdup_printf ("<%s>", tag);
  const gchar *a = strstr (doc, open), *b;
  gchar *v = NULL;

  if (a) {
    a += strlen (open);
    b = strstr (a, "</");
    if (b)
      v = g_strndup (a, b - a);
  }
  g_free (open);
  return v;
}

static void
set_error (OpS3Client * c, const Request * r, CURLcode rc,
    const gchar * errbuf, guint attempts, const gchar * what, GError ** error)
{
  gchar *code = xml_text (r->response->str, "Code");
  gchar *msg = xml_text (r->response->str, "Message");
  gchar *detail, *tries;
  gint gcode = G_IO_ERROR_FAILED;

  if (rc != CURLE_OK)
    detail = g_strdup_printf ("%s", *errbuf ? errbuf : curl_easy_strerror (rc));
  else
    detail = g_strdup_printf ("HTTP %ld%s%s%s%s", r->status,
        code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
  if (r->status == 403 || r->status == 401)
    gcode = G_IO_ERROR_PERMISSION_DENIED;
  else if (r->status == 404)
    gcode = G_IO_ERROR_NOT_FOUND;
  /* HEAD answers have no body: say what a 404 on the bucket means */
  if (gcode == G_IO_ERROR_NOT_FOUND && !r->key && !code) {
    g_free (detail);
    detail = g_strdup_printf ("HTTP 404, no bucket \"%s\" at %s", c->bucket,
        c->config->endpoint ? c->config->endpoint : "AWS");
  } else if (gcode == G_IO_ERROR_PERMISSION_DENIED && !code) {
    g_free (detail);
    detail = g_strdup_printf ("HTTP %ld, access denied", r->status);
  }
  tries = attempts > 1 ? g_strdup_printf (" after %u attempts", attempts) :
      g_strdup ("");
  g_set_error (error, G_IO_ERROR, gcode, "%s s3://%s/%s failed%s: %s%s%s",
      what, c->bucket, r->key ? r->key : "", tries, detail,
      gcode == G_IO_ERROR_PERMISSION_DENIED ? "; check the credentials from "
      : "", gcode == G_IO_ERROR_PERMISSION_DENIED ? c->config->origin : "");
  g_free (tries);
  g_free (code);
  g_free (msg);
  g_free (detail);
}

/* Sends @r, retrying transient failures; TRUE on a 2xx status. */
static gboolean
perform (OpS3Client * c, Request * r, const gchar * what, GError ** error)
{
  gchar errbuf[CURL_ERROR_SIZE];
  guint attempt;
  CURLcode rc = CURLE_OK;

  for (attempt = 1;; attempt++) {
    rc = send_once (c, r, errbuf);
    if (rc == CURLE_OK && r->status >= 200 && r->status < 300)
      return TRUE;
    if (attempt == ATTEMPTS || !transient (rc, r->status))
      break;
    g_debug ("%s s3://%s/%s: attempt %u failed (curl %d, HTTP %ld), retrying",
        what, c->bucket, r->key ? r->key : "", attempt, rc, r->status);
    g_usleep ((gulong) FIRST_BACKOFF_US << (attempt - 1));
  }
  set_error (c, r, rc, errbuf, attempt, what, error);
  return FALSE;
}

static void
request_init (Request * r, OpS3Client * c, const gchar * method,
    const gchar * key, const gchar * query, const guint8 * body, gsize len)
{
  memset (r, 0, sizeof (*r));
  r->client = c;
  r->method = method;
  r->key = key;
  r->query = query;
  r->body = body;
  r->len = len;
  r->response = g_string_new (NULL);
}

static void
request_clear (Request * r)
{
  g_string_free (r->response, TRUE);
  g_free (r->etag);
}

/**
 * op_s3_client_check_bucket:
 *
 * Fails when the bucket does not exist or the credentials are refused, so
 * that a run fails at start, not after its first shard.
 */
gboolean
op_s3_client_check_bucket (OpS3Client * c, GError ** error)
{
  Request r;
  gboolean ok;

  request_init (&r, c, "HEAD", NULL, NULL, NULL, 0);
  ok = perform (c, &r, "checking bucket", error);
  request_clear (&r);
  return ok;
}

gboolean
op_s3_client_put_data (OpS3Client * c, const gchar * key,
    const guint8 * data, gsize len, GError ** error)
{
  Request r;
  gboolean ok;

  request_init (&r, c, "PUT", key, NULL, data, len);
  ok = perform (c, &r, "uploading", error);
  request_clear (&r);
  return ok;
}

static gchar *
create_upload (OpS3Client * c, const gchar * key, GError ** error)
{
  Request r;
  gchar *id = NULL;

  request_init (&r, c, "POST", key, "uploads=", NULL, 0);
  if (perform (c, &r, "starting multipart upload of", error)) {
    id = xml_text (r.response->str, "UploadId");
    if (!id)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "starting multipart upload of s3://%s/%s: no UploadId in the "
          "store's answer", c->bucket, key);
  }
  request_clear (&r);
  return id;
}

/* Appends the part's <Part> element to @parts. */
static gboolean
upload_part (OpS3Client * c, const gchar * key, const gchar * id, guint n,
    const guint8 * data, gsize len, GString * parts, GError ** error)
{
  gchar *query = g_strdup_printf ("partNumber=%u&uploadId=%s", n, id);
  Request r;
  gboolean ok;

  request_init (&r, c, "PUT", key, query, data, len);
  ok = perform (c, &r, "uploading a part of", error);
  if (ok && !r.etag) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "uploading part %u of s3://%s/%s: no ETag in the store's answer", n,
        c->bucket, key);
    ok = FALSE;
  }
  if (ok)
    g_string_append_printf (parts, "<Part><PartNumber>%u</PartNumber>"
        "<ETag>%s</ETag></Part>", n, r.etag);
  request_clear (&r);
  g_free (query);
  return ok;
}

static gboolean
complete_upload (OpS3Client * c, const gchar * key, const gchar * id,
    GString * parts, GError ** error)
{
  gchar *query = g_strdup_printf ("uploadId=%s", id);
  gchar *body = g_strdup_printf ("<CompleteMultipartUpload>%s"
      "</CompleteMultipartUpload>", parts->str);
  Request r;
  gboolean ok;

  request_init (&r, c, "POST", key, query, (const guint8 *) body,
      strlen (body));
  ok = perform (c, &r, "completing multipart upload of", error);
  /* S3 may answer 200 and put the failure in the body */
  if (ok && strstr (r.response->str, "<Error>")) {
    r.status = 200;
    set_error (c, &r, CURLE_OK, "", 1, "completing multipart upload of", error);
    ok = FALSE;
  }
  request_clear (&r);
  g_free (body);
  g_free (query);
  return ok;
}

/* After a failure in @error: a failed abort only leaves invisible parts
 * behind (a bucket lifecycle rule removes those), so it is added to the
 * message, not raised instead. */
static void
abort_upload (OpS3Client * c, const gchar * key, const gchar * id,
    GError ** error)
{
  gchar *query = g_strdup_printf ("uploadId=%s", id);
  GError *err = NULL;
  Request r;

  request_init (&r, c, "DELETE", key, query, NULL, 0);
  if (!perform (c, &r, "aborting multipart upload of", &err)
      && error && *error) {
    gchar *msg = g_strdup_printf ("%s (and %s; its parts stay stored, "
        "invisible, until a lifecycle rule removes them)", (*error)->message,
        err->message);

    g_free ((*error)->message);
    (*error)->message = msg;
  }
  g_clear_error (&err);
  request_clear (&r);
  g_free (query);
}

static gboolean
read_part (GInputStream * in, guint8 * buf, gsize want, gsize * got,
    const gchar * path, GError ** error)
{
  GError *err = NULL;

  if (g_input_stream_read_all (in, buf, want, got, NULL, &err))
    return TRUE;
  g_set_error (error, err->domain, err->code, "Could not read \"%s\": %s",
      path, err->message);
  g_clear_error (&err);
  return FALSE;
}

static gboolean
put_multipart (OpS3Client * c, const gchar * key, GInputStream * in,
    const gchar * path, GError ** error)
{
  guint8 *buf = g_malloc (c->part_size);
  GString *parts = g_string_new (NULL);
  gchar *id = create_upload (c, key, error);
  gboolean ok = id != NULL;
  gsize got = 0;
  guint n;

  for (n = 1; ok; n++) {
    ok = read_part (in, buf, c->part_size, &got, path, error);
    if (!ok || (got == 0 && n > 1))
      break;
    ok = upload_part (c, key, id, n, buf, got, parts, error);
    if (got < c->part_size)
      break;
  }
  ok = ok && complete_upload (c, key, id, parts, error);
  if (!ok && id)
    abort_upload (c, key, id, error);
  g_string_free (parts, TRUE);
  g_free (buf);
  g_free (id);
  return ok;
}

/**
 * op_s3_client_put_file:
 *
 * Uploads the file @path as @key: one PUT up to the part size, a multipart
 * upload above it (aborted on failure). The object exists complete or not
 * at all (it may be an older version when one was there).
 */
gboolean
op_s3_client_put_file (OpS3Client * c, const gchar * key, const gchar * path,
    GError ** error)
{
  GFile *file = g_file_new_for_path (path);
  GError *err = NULL;
  GFileInputStream *in = g_file_read (file, NULL, &err);
  GFileInfo *info = NULL;
  gboolean ok = FALSE;

  if (in)
    info = g_file_input_stream_query_info (in,
        G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &err);
  if (!info) {
    g_set_error (error, err->domain, err->code, "Could not read \"%s\": %s",
        path, err->message);
    g_clear_error (&err);
  } else if ((guint64) g_file_info_get_size (info) > c->part_size) {
    ok = put_multipart (c, key, G_INPUT_STREAM (in), path, error);
  } else {
    gsize len = g_file_info_get_size (info), got = 0;
    guint8 *buf = g_malloc (MAX (len, 1));

    ok = read_part (G_INPUT_STREAM (in), buf, len, &got, path, error)
        && op_s3_client_put_data (c, key, buf, got, error);
    g_free (buf);
  }
  g_clear_object (&info);
  g_clear_object (&in);
  g_object_unref (file);
  return ok;
}
