// vpc_bench: how fast the VPC manager turns endpoint changes into pipeline changes, and
// what a remote endpoint costs in memory. Not a test (not in ctest); run by hand:
//
//   build/tests/bench/vpc_bench [--endpoints N] [--base N,N,...] [--sizes B,B,...] [--seconds S]
//
// 1. Update rate: a VPC already holding BASE remote endpoints (default 10000 and
//    1000000) takes batches of 1, 100 and 1000 (--sizes) endpoint changes (adds, then the
//    deletes of the same endpoints), each batch through VpcManager::apply into a real
//    Ofproto (validation, compilation into rule text, parsing, one new pipeline
//    snapshot per batch). Printed: changes/s and time per batch.
// 2. Memory: RSS (/proc/self/statm, after malloc_trim) before and after adding N
//    remote endpoints (default 1000000, in batches of 10000), divided by N: the model
//    plus its 2 pipeline rules (ARP answer, forward to the tunnel) per endpoint.
//
// No datapath, no EAL: the pipeline's RCU wait is a no-op here.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ofproto/ofproto.h"
#include "overlay/vpc/vpc_manager.h"

using namespace vswitch;
using namespace vswitch::vpc;
using Clock = std::chrono::steady_clock;

namespace {

class Ports : public PortDirectory {
public:
    std::optional<uint32_t> port_number(std::string_view n) const override {
        static const std::map<std::string, uint32_t, std::less<>> m{{"vm1", 1}, {"up0", 3}, {"vxlan0", 10}, {"gre0", 11}};
        auto it = m.find(n);
        if (it == m.end()) return std::nullopt;
        return it->second;
    }
    std::string port_name(uint32_t no) const override {
        switch (no) {
        case 1: return "vm1";
        case 3: return "up0";
        case 10: return "vxlan0";
        case 11: return "gre0";
        }
        return "";
    }
};

double rss_mb() {
    malloc_trim(0);
    FILE* f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
        fclose(f);
    }
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

std::string mac_of(uint32_t i) {
    char b[18];
    snprintf(b, sizeof b, "52:54:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff,
             i & 0xff);
    return b;
}
std::string ip_of(uint32_t i) { return format_ip(0x0a000000u + 2 + i); }   // in 10.0.0.0/8
std::string host_of(uint32_t i) { return format_ip(0xc6120000u + 1 + i % 1000); }   // 198.18.0.x: 1000 hosts

Op add_ep(uint32_t i) {
    Op o;
    o.kind = OpKind::AddEndpoint;
    o.vpc = "bench";
    o.endpoint = {mac_of(i), ip_of(i), host_of(i)};
    return o;
}
Op del_ep(uint32_t i) {
    Op o;
    o.kind = OpKind::DelEndpoint;
    o.vpc = "bench";
    o.endpoint.mac = mac_of(i);
    return o;
}

struct Setup {
    Ports ports;
    Ofproto ofp{ports, nullptr};
    VpcManager mgr{ofp, [this](std::string_view n) { return ports.port_number(n).has_value(); }};
    uint32_t next = 0;   // endpoints 0..next-1 exist

    Setup() {
        Op c;
        c.kind = OpKind::CreateVpc;
        c.vpc = "bench";
        c.vni = 5001;
        Op s;
        s.kind = OpKind::AddSubnet;
        s.vpc = "bench";
        s.subnet.cidr = "10.0.0.0/8";
        Op b;
        b.kind = OpKind::Bind;
        b.vpc = "bench";
        b.binding = {"vm1", "02:00:00:00:00:01", {"10.255.255.1"}};
        apply({c, s, b});
    }
    void apply(const std::vector<Op>& ops) {
        BatchResult r;
        if (VpcError e = mgr.apply(0, ops, r)) {
            fprintf(stderr, "vpc_bench: %s: %s\n", e.field.c_str(), e.message.c_str());
            exit(1);
        }
    }
    void grow(uint32_t to, uint32_t batch = 10000) {
        while (next < to) {
            std::vector<Op> ops;
            uint32_t end = std::min(to, next + batch);
            for (uint32_t i = next; i < end; i++) ops.push_back(add_ep(i));
            apply(ops);
            next = end;
        }
    }
};

std::vector<uint32_t> g_sizes = {1, 100, 1000};

void rate(uint32_t base, double seconds) {
    Setup s;
    auto t0 = Clock::now();
    s.grow(base);
    double build = std::chrono::duration<double>(Clock::now() - t0).count();
    printf("base %u endpoints (%zu rules), built in %.1f s\n", base, s.ofp.n_rules(), build);
    for (uint32_t bs : g_sizes) {
        uint64_t changes = 0, batches = 0;
        auto start = Clock::now();
        double elapsed = 0;
        uint32_t first = base + 10;   // fresh endpoints above the base
        while (elapsed < seconds || batches < 4) {
            std::vector<Op> add, del;
            for (uint32_t i = 0; i < bs; i++) {
                add.push_back(add_ep(first + i));
                del.push_back(del_ep(first + i));
            }
            s.apply(add);
            s.apply(del);
            changes += 2 * bs;
            batches += 2;
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        printf("  batches of %4u: %9.0f endpoint changes/s  (%7.2f ms per batch, %llu batches)\n", bs,
               changes / elapsed, 1e3 * elapsed / batches, static_cast<unsigned long long>(batches));
    }
}

}  // namespace

int main(int argc, char** argv) {
    uint32_t n = 1000000;
    std::vector<uint32_t> bases = {10000, 1000000};
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                fprintf(stderr, "vpc_bench: %s needs a value\n", a.c_str());
                exit(2);
            }
            return argv[++i];
        };
        if (a == "--endpoints") {
            n = static_cast<uint32_t>(strtoul(val().c_str(), nullptr, 10));
        } else if (a == "--base") {
            bases.clear();
            std::string v = val();
            for (size_t p = 0; p < v.size();) {
                size_t c = v.find(',', p);
                bases.push_back(static_cast<uint32_t>(strtoul(v.substr(p, c - p).c_str(), nullptr, 10)));
                p = c == std::string::npos ? v.size() : c + 1;
            }
        } else if (a == "--sizes") {
            g_sizes.clear();
            std::string v = val();
            for (size_t p = 0; p < v.size();) {
                size_t c = v.find(',', p);
                g_sizes.push_back(static_cast<uint32_t>(strtoul(v.substr(p, c - p).c_str(), nullptr, 10)));
                p = c == std::string::npos ? v.size() : c + 1;
            }
        } else if (a == "--seconds") {
            seconds = strtod(val().c_str(), nullptr);
        } else {
            fprintf(stderr, "usage: vpc_bench [--endpoints N] [--base N,N,...] [--sizes B,B,...] [--seconds S]\n");
            return 2;
        }
    }

    printf("== endpoint update rate (VpcManager::apply -> Ofproto, one snapshot per batch)\n");
    for (uint32_t b : bases) rate(b, seconds);

    printf("== memory per remote endpoint\n");
    {
        Setup s;
        double before = rss_mb();
        size_t rules_before = s.ofp.n_rules();
        auto t0 = Clock::now();
        s.grow(n);
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        double after = rss_mb();
        printf("  %u endpoints on %u hosts: %zu rules (+%zu), added in %.1f s (%.0f/s in batches of 10000)\n", n,
               std::min(n, 1000u), s.ofp.n_rules(), s.ofp.n_rules() - rules_before, secs, n / secs);
        printf("  RSS %.1f MB -> %.1f MB: %.0f bytes per endpoint\n", before, after,
               (after - before) * 1e6 / n);
    }
    return 0;
}
