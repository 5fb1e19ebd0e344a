/* buf.h - a growable byte buffer with an upper bound. */
#ifndef TEMPER_BUF_H
#define TEMPER_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Each returns 0 or -ENOMEM; data stays NUL-terminated after any success. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
__attribute__((format(printf, 2, 3)))
int buf_printf(struct buf *b, const char *fmt, ...);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Hand the bytes to the caller (NUL-terminated, never NULL) and reset. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);

#endif
