// vpc_api_bench: VPC endpoint updates per second through the controller API of a running
// switchd (the socket, the request handling, the VPC compiler, the pipeline snapshot and
// the state file: everything a controller waits for before its reply). Not a test; run
// by tests/bench/vpc_api.sh, which starts switchd with each persistence mode.
//
//   build/tests/bench/vpc_api_bench --socket PATH [--base N,N,...] [--sizes B,B,...] [--seconds S]
//
// The switch needs an uplink (set-uplink) for the endpoints' tunnel rules: vpc_api.sh
// sets one up. For each base size: the VPC "bench" is filled up to BASE remote endpoints (batches of
// 10000 adds, timed: the bulk load rate), then for each batch size B, for S seconds,
// batches of B endpoint adds alternate with batches deleting them again. Printed per B:
// changes/s, ms per batch (median and 99th percentile), and the state file's snapshot
// and journal sizes after the run (from `show`). Then, for S seconds, an add-flow and
// its strict del-flows alternate: flow changes/s and ms per request.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ctl/api/client.h"

using namespace vswitch;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<size_t> parse_list(const char* s) {
    std::vector<size_t> out;
    for (const char* p = s; *p;) {
        char* end;
        out.push_back(strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
    }
    return out;
}

// Endpoint i of the VPC: a MAC and an IP in 10.0.0.0/8, on one of 1000 hosts.
void endpoint(size_t i, api::VpcEndpoint& e) {
    char mac[32], ip[32], host[32];
    const size_t a = i + 2;   // 10.0.0.1 is the gateway
    snprintf(mac, sizeof mac, "02:e0:%02zx:%02zx:%02zx:%02zx", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255,
             a & 255);
    snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", (a >> 16) & 255, (a >> 8) & 255, a & 255);
    snprintf(host, sizeof host, "192.0.%zu.%zu", 2 + (i % 1000) / 250, 1 + (i % 1000) % 250);
    e.set_mac(mac);
    e.set_ip(ip);
    e.set_host(host);
}
void check(const api::Response& r, const char* what) {
    if (r.has_error()) {
        fprintf(stderr, "vpc_api_bench: %s: %s (field %s)\n", what, r.error().message().c_str(),
                r.error().field().c_str());
        exit(1);
    }
}

void add_batch(api::Request& req, size_t from, size_t n, bool del) {
    req.Clear();
    auto* b = req.mutable_vpc_batch();
    for (size_t k = from; k < from + n; k++) {
        auto* op = b->add_ops();
        auto* x = del ? op->mutable_del_endpoint() : op->mutable_add_endpoint();
        x->set_vpc("bench");
        endpoint(k, *x->mutable_endpoint());
    }
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::string sock;
    std::vector<size_t> bases{10000, 100000}, sizes{1, 100, 1000};
    double seconds = 5;
    for (int i = 1; i < argc; i++) {
        auto arg = [&](const char* name) { return !strcmp(argv[i], name) && i + 1 < argc; };
        if (arg("--socket")) sock = argv[++i];
        else if (arg("--base")) bases = parse_list(argv[++i]);
        else if (arg("--sizes")) sizes = parse_list(argv[++i]);
        else if (arg("--seconds")) seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: vpc_api_bench --socket PATH [--base N,...] [--sizes B,...] [--seconds S]\n");
            return 2;
        }
    }
    if (sock.empty()) {
        fprintf(stderr, "vpc_api_bench: --socket PATH is required\n");
        return 2;
    }
    api::ApiClient c(std::chrono::milliseconds(600000));
    c.connect(sock);
    api::Request req;
    api::Response resp;
    auto* b = req.mutable_vpc_batch();
    auto* cr = b->add_ops()->mutable_create_vpc();
    cr->set_vpc("bench");
    cr->set_vni(9001);
    auto* sn = b->add_ops()->mutable_add_subnet();
    sn->set_vpc("bench");
    sn->mutable_subnet()->set_cidr("10.0.0.0/8");
    c.call(req, resp);
    check(resp, "create");

    size_t have = 0;
    const size_t top = *std::max_element(bases.begin(), bases.end()) + 1000;
    for (size_t base : bases) {
        const auto t0 = Clock::now();
        const size_t from = have;
        while (have < base) {
            const size_t n = std::min<size_t>(10000, base - have);
            add_batch(req, have, n, false);
            c.call(req, resp);
            check(resp, "bulk add");
            have += n;
        }
        const double load_ms = ms_since(t0);
        api::Request sr;
        sr.mutable_show();
        api::Response show;
        c.call(sr, show);
        printf("base %zu endpoints (%u pipeline rules): %zu added in %.1f s (%.0f/s in batches of 10000)\n", base,
               show.show().n_flows(), have - from, load_ms / 1e3, (have - from) / (load_ms / 1e3 + 1e-9));
        for (size_t bs : sizes) {
            std::vector<double> lat;
            size_t changes = 0;
            const auto start = Clock::now();
            while (ms_since(start) < seconds * 1e3) {
                for (bool del : {false, true}) {
                    add_batch(req, top, bs, del);   // endpoints above every base
                    const auto t = Clock::now();
                    c.call(req, resp);
                    lat.push_back(ms_since(t));
                    check(resp, del ? "delete" : "add");
                    changes += bs;
                }
            }
            const double total = ms_since(start);
            std::sort(lat.begin(), lat.end());
            api::Request sr;
            sr.mutable_show();
            api::Response show;
            c.call(sr, show);
            printf("  batches of %4zu: %9.1f endpoint changes/s  (median %8.2f ms, p99 %8.2f ms per batch, %zu "
                   "batches; snapshot %llu bytes, journal %llu records)\n",
                   bs, changes / (total / 1e3), lat[lat.size() / 2], lat[std::min(lat.size() - 1, lat.size() * 99 / 100)],
                   lat.size(), static_cast<unsigned long long>(show.show().db_snapshot_bytes()),
                   static_cast<unsigned long long>(show.show().db_journal_records()));
            fflush(stdout);
        }
        // A flow change with BASE endpoints in the switch: an operator's add-flow and
        // its strict delete, alternating (what the journal made O(request) too).
        std::vector<double> lat;
        const auto start = Clock::now();
        for (uint32_t i = 0; ms_since(start) < seconds * 1e3; i++) {
            const std::string m = "table=200,priority=5,ip,nw_src=192.168." + std::to_string(i % 256) + ".1";
            for (bool del : {false, true}) {
                req.Clear();
                if (del) {
                    req.mutable_del_flows()->set_match(m);
                    req.mutable_del_flows()->set_strict(true);
                } else {
                    req.mutable_add_flows()->add_flows(m + ",actions=drop");
                }
                const auto t = Clock::now();
                c.call(req, resp);
                lat.push_back(ms_since(t));
                check(resp, del ? "del-flows" : "add-flow");
            }
        }
        std::sort(lat.begin(), lat.end());
        printf("  flow changes: %9.1f/s  (median %8.2f ms, p99 %8.2f ms per add-flow or del-flows, %zu requests)\n",
               lat.size() / (ms_since(start) / 1e3), lat[lat.size() / 2],
               lat[std::min(lat.size() - 1, lat.size() * 99 / 100)], lat.size());
        fflush(stdout);
    }
    return 0;
}
