"""The intermediates a TLS client sent, on Python before 3.13.

Python 3.11's ssl module gives the peer's own certificate only (getpeercert); the rest of
the chain it sent (SSL_get_peer_cert_chain) is first exposed in 3.13
(SSLObject.get_unverified_chain). OpenSSL keeps it for the connection, so it is read
through ctypes from the SSL* behind the ssl.SSLObject: CPython's PySSLSocket holds it
right after the object header and a weak reference to the socket. The pointer is used only
when OpenSSL, asked through it, names the same SSL_CTX Python's context holds (found the
same way, see the package), so a different object layout yields no intermediates rather
than a crash. A resumed session has no chain (the client sends none): no intermediates.
"""
from __future__ import annotations

import ctypes
import ssl


def _lib():
    import _ssl

    lib = ctypes.CDLL(_ssl.__file__)
    lib.SSL_get_SSL_CTX.argtypes = [ctypes.c_void_p]
    lib.SSL_get_SSL_CTX.restype = ctypes.c_void_p
    lib.SSL_get_peer_cert_chain.argtypes = [ctypes.c_void_p]
    lib.SSL_get_peer_cert_chain.restype = ctypes.c_void_p
    lib.OPENSSL_sk_num.argtypes = [ctypes.c_void_p]
    lib.OPENSSL_sk_num.restype = ctypes.c_int
    lib.OPENSSL_sk_value.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.OPENSSL_sk_value.restype = ctypes.c_void_p
    lib.i2d_X509.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
    lib.i2d_X509.restype = ctypes.c_int
    return lib


def _after_header(obj, skip: int = 0) -> int | None:
    return ctypes.c_void_p.from_address(id(obj) + object.__basicsize__ + skip * ctypes.sizeof(ctypes.c_void_p)).value


def _ssl_pointer(ssl_object: ssl.SSLObject, lib) -> int | None:
    sslobj = getattr(ssl_object, "_sslobj", None)
    if sslobj is None or type(sslobj).__name__ != "_SSLSocket":
        return None
    ptr = _after_header(sslobj, skip=1)          # PySSLSocket: header, Socket (weakref), SSL *ssl
    ctx_ptr = _after_header(ssl_object.context)  # PySSLContext: header, SSL_CTX *ctx
    if not ptr or not ctx_ptr or lib.SSL_get_SSL_CTX(ptr) != ctx_ptr:
        return None
    return ptr


def _der(lib, x509_ptr: int) -> bytes | None:
    size = lib.i2d_X509(x509_ptr, None)
    if size <= 0:
        return None
    buf = (ctypes.c_ubyte * size)()
    cursor = ctypes.cast(buf, ctypes.POINTER(ctypes.c_ubyte))
    if lib.i2d_X509(x509_ptr, ctypes.byref(cursor)) != size:
        return None
    return bytes(buf)


def peer_intermediates(ssl_object: ssl.SSLObject) -> list[bytes]:
    """DER certificates the client sent after its own (a server-side connection)."""
    try:
        lib = _lib()
        ptr = _ssl_pointer(ssl_object, lib)
        if ptr is None:
            return []
        stack = lib.SSL_get_peer_cert_chain(ptr)   # server side: without the client's own certificate
        if not stack:
            return []
        out = []
        for i in range(lib.OPENSSL_sk_num(stack)):
            der = _der(lib, lib.OPENSSL_sk_value(stack, i))
            if der is not None:
                out.append(der)
        return out
    except (OSError, AttributeError, ValueError):
        return []
