vcl 4.1;
# Varnish 7.1 (Debian 12: packages varnish and varnish-modules) in front of gunicorn, behind
# nginx for TLS (README, "Varnish in front"). It keeps what the app marks shared-cacheable
# (Cache-Control: public, s-maxage) and drops pages by surrogate key when the app purges
# after a publication (factually/frontcache.py; the keys come in the `xkey` header).
#
# Start it with the purge secret in its environment, the same value as the app's
# FACTUALLY_FRONT_CACHE_SECRET, e.g. in a systemd override of varnish.service:
#   Environment=FACTUALLY_FRONT_CACHE_SECRET=...
#   ExecStart=/usr/sbin/varnishd -a 127.0.0.1:6081 -f /etc/varnish/factually.vcl -s malloc,1g
# Edit the backend (where gunicorn listens; .host_header: a name in ALLOWED_HOSTS, which
# the health probe sends) and the `purgers` ACL (the app servers' addresses).

import std;
import xkey;

backend app {
    .host = "127.0.0.1";
    .port = "8000";
    .host_header = "localhost";
    # /healthz answers 503 when the database is down: pages are then served stale for up to
    # their stale-if-error rather than as errors. Healthy from the start.
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 2s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }
}

# Who may purge: the app servers (and they must also know the secret).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    unset req.http.x-factually-pass;

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging is not allowed from this address"));
        }
        # An empty secret (the variable unset) refuses every purge.
        if (std.getenv("FACTUALLY_FRONT_CACHE_SECRET") == ""
            || req.http.X-Purge-Secret != std.getenv("FACTUALLY_FRONT_CACHE_SECRET")) {
            return (synth(403, "Wrong purge secret"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "No keys to purge (xkey-purge)"));
        }
        # A hard purge, not a soft one: a purged page must not be served even once more.
        set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.x-purged));
    }
    if (req.method == "BAN") {
        return (synth(405, "Purge by key (PURGE with xkey-purge)"));
    }

    # Anything but a read, the admin, signed-in editors (session cookie), other credentials,
    # and a reader who has just sent a form (a message to show, and for 30 s reads from the
    # primary database) go to the app with their cookies: never cached nor served from cache.
    if (req.method != "GET" && req.method != "HEAD") {
        set req.http.x-factually-pass = "1";
        return (pass);
    }
    if (req.url ~ "^/admin(/|$)"
        || req.http.Authorization
        || req.http.Cookie ~ "(^|;\s*)(sessionid|messages|factually_wrote)=") {
        set req.http.x-factually-pass = "1";
        return (pass);
    }
    # Readers' other cookies (CSRF token, analytics) change nothing on a public page: dropped,
    # so that they neither bypass the cache nor split it by `Vary: Cookie`. A form page that
    # needs the CSRF cookie sets a new one (its response is private, never stored).
    unset req.http.Cookie;

    # A page past its s-maxage is served for up to the app's stale-while-revalidate (60 s)
    # while it is fetched again; with the app down, for up to its stale-if-error.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 60s;
    }
    return (hash);
}

sub vcl_backend_response {
    # A failed background refresh keeps the stale page (stale-while-revalidate).
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        return (abandon);
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    # Only what the app marks public is stored; anything personal or unmarked (errors,
    # 404s, forms, settling pages) is fetched for every reader.
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(^|,)\s*public\s*(,|$)"
        || beresp.http.Cache-Control ~ "private|no-store|no-cache") {
        # Hit-for-miss: the next readers go straight to the app, and a public answer from it
        # is stored again at once.
        set beresp.ttl = 10s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Varnish takes the TTL from s-maxage itself; the grace (how long a stale copy is kept
    # for when the app fails) from stale-if-error.
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s"), 0s);
    }
    return (deliver);
}

sub vcl_deliver {
    if (req.http.x-factually-pass) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The keys are for purging, not for readers.
    unset resp.http.xkey;
}
