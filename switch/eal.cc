#include "eal.h"

#include <unistd.h>

#include <regex>

#include <rte_eal.h>
#include <rte_errno.h>

namespace vswitch {

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    bool in = false;
    char quote = 0;
    for (char c : s) {
        if (quote) {
            if (c == quote) quote = 0;
            else cur += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in = true;
        } else if (isspace(static_cast<unsigned char>(c))) {
            if (in) out.push_back(cur);
            cur.clear();
            in = false;
        } else {
            cur += c;
            in = true;
        }
    }
    if (in) out.push_back(cur);
    return out;
}

namespace {

bool names_pci_device(const std::vector<std::string>& w) {
    static const std::regex pci(R"(^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7].*)");
    for (size_t i = 0; i < w.size(); i++) {
        const std::string& a = w[i];
        for (const char* opt : {"-a", "--allow", "-b", "--block", "-w", "--pci-whitelist"}) {
            std::string o = opt;
            if (a == o && i + 1 < w.size() && std::regex_match(w[i + 1], pci)) return true;
            if (a.rfind(o + "=", 0) == 0 && std::regex_match(a.substr(o.size() + 1), pci)) return true;
            if (o.size() == 2 && a.size() > 2 && a.rfind(o, 0) == 0 && std::regex_match(a.substr(2), pci))
                return true;
        }
    }
    return false;
}

bool has_option(const std::vector<std::string>& w, const std::string& opt) {
    for (const auto& a : w)
        if (a == opt || a.rfind(opt + "=", 0) == 0) return true;
    return false;
}

}  // namespace

std::vector<std::string> build_eal_args(const EalOptions& o, unsigned n_cpus) {
    std::vector<std::string> user = split_words(o.extra);
    std::vector<std::string> args{"switchd"};

    std::string ctl;
    for (unsigned c = 0; c < n_cpus; c++) {
        bool pmd = false;
        for (unsigned p : o.pmd_cores) pmd = pmd || p == c;
        if (!pmd) ctl += (ctl.empty() ? "" : ",") + std::to_string(c);
    }
    if (ctl.empty()) ctl = "0-" + std::to_string(n_cpus ? n_cpus - 1 : 0);
    std::string lcores = "0@(" + ctl + ")";
    for (size_t i = 0; i < o.pmd_cores.size(); i++)
        lcores += "," + std::to_string(i + 1) + "@" + std::to_string(o.pmd_cores[i]);
    if (!has_option(user, "--lcores") && !has_option(user, "-l")) {
        args.push_back("--lcores");
        args.push_back(lcores);
    }
    if (!names_pci_device(user) && !has_option(user, "--no-pci")) args.push_back("--no-pci");
    if (!has_option(user, "--file-prefix")) args.push_back("--file-prefix=" + o.file_prefix);
    args.insert(args.end(), user.begin(), user.end());
    return args;
}

bool eal_init(const EalOptions& o, std::string& err) {
    long n = sysconf(_SC_NPROCESSORS_CONF);
    std::vector<std::string> args = build_eal_args(o, n > 0 ? static_cast<unsigned>(n) : 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string line;
    for (auto& a : args) line += a + " ";
    fprintf(stderr, "switchd: EAL arguments: %s\n", line.c_str());
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        // rte_errno is often left 0; the EAL's own messages above say what went wrong
        // (hugepages, a --file-prefix in use by another process, an lcore that does not exist).
        err = std::string("EAL initialisation failed") +
              (rte_errno ? std::string(": ") + rte_strerror(rte_errno) : std::string()) +
              " (see the EAL messages above; arguments: " + line + ")";
        return false;
    }
    return true;
}

}  // namespace vswitch
