/*
 * bench_client: the floor for "fetch + parse" — one process, one libcurl
 * handle (keep-alive), json-c parsing, every field of every object read.
 *
 *   bench_client URL EMAIL KEY N   -> prints "median_ms p95_ms connections"
 */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct
{
	char *data;
	size_t len;
	size_t cap;
} Buf;

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
	Buf *b = ud;
	size_t add = size * n;

	if (b->len + add + 1 > b->cap)
	{
		b->cap = (b->len + add + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			return 0;
	}
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* read every scalar, as a SQL mapper would have to */
static size_t
walk(struct json_object *o)
{
	size_t n = 0;

	switch (json_object_get_type(o))
	{
		case json_type_array:
			for (size_t i = 0; i < json_object_array_length(o); i++)
				n += walk(json_object_array_get_idx(o, i));
			return n;
		case json_type_object:
		{
			json_object_object_foreach(o, k, v)
			{
				(void) k;
				n += walk(v);
			}
			return n;
		}
		default:
			return strlen(json_object_get_string(o)) > 0 ? 1 : 1;
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	CURL *h;
	Buf b = {0};
	int n;
	double *ms;
	long connects = 0;

	if (argc != 5)
	{
		fprintf(stderr, "usage: %s URL EMAIL KEY N\n", argv[0]);
		return 2;
	}
	n = atoi(argv[4]);
	ms = calloc(n, sizeof(double));
	curl_global_init(CURL_GLOBAL_ALL);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	curl_easy_setopt(h, CURLOPT_USERNAME, argv[2]);
	curl_easy_setopt(h, CURLOPT_PASSWORD, argv[3]);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	for (int i = 0; i < n; i++)
	{
		struct timespec t0, t1;
		struct json_object *doc;
		long c = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		b.len = 0;
		if (curl_easy_perform(h) != CURLE_OK)
			return 1;
		doc = json_tokener_parse(b.data);
		if (doc == NULL || walk(doc) == 0)
			return 1;
		json_object_put(doc);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &c);
		connects += c;
		ms[i] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	qsort(ms, n, sizeof(double), cmp);
	printf("%.3f %.3f %ld\n", ms[n / 2], ms[(int) (n * 0.95)], connects);
	curl_easy_cleanup(h);
	free(b.data);
	free(ms);
	return 0;
}
