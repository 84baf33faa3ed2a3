// switchctl: command-line client of switchd's control API.
//
// Glue only: parse the command line into one Request (ctl/api/cli_args), send it over
// the control socket (ctl/api/client), print the Response (ctl/api/cli_format).
// Exit status: 0 success; 1 switchd rejected the request, could not be reached, replied
// unexpectedly, or the input file could not be read; 2 usage error.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctl/api/cli_args.h"
#include "ctl/api/cli_format.h"
#include "ctl/api/client.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int error(const std::string& msg) {
    std::fprintf(stderr, "switchctl: %s\n", msg.c_str());
    return kExitError;
}

int usage_error(const std::string& msg, const vswitch::cli::Options& opts) {
    std::fprintf(stderr, "switchctl: %s\n", msg.c_str());
    std::string usage = vswitch::cli::command_usage(opts.command);
    if (!usage.empty()) std::fprintf(stderr, "%s\n", usage.c_str());
    std::fprintf(stderr, "Try 'switchctl --help' for more information.\n");
    return kExitUsage;
}

// stdout may be a closed pipe or a full disk: a silent truncated dump must not exit 0.
int emit(const std::string& text) {
    if (!text.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return error("cannot write output");
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace vswitch;
    std::vector<std::string> args(argv + 1, argv + argc);
    cli::Options opts;
    opts.socket_path = cli::default_socket_path(std::getenv("VSWITCH_SOCKET"));

    api::Request req;
    std::string err;
    switch (cli::build_request(args, req, opts, err)) {
    case cli::ParseStatus::kOk:
        break;
    case cli::ParseStatus::kHelp:
        return emit(cli::usage_text());
    case cli::ParseStatus::kUsageError:
        if (args.empty()) {
            std::fputs(cli::usage_text().c_str(), stderr);
            return kExitUsage;
        }
        return usage_error(err, opts);
    case cli::ParseStatus::kInputError:
        return error(err);
    }

    api::Response resp;
    try {
        api::ApiClient client(opts.timeout);
        client.connect(opts.socket_path);
        client.call(req, resp);
    } catch (const api::ApiClientError& e) {
        std::string msg = e.what();
        if (e.kind() == api::ApiClientError::Kind::kTimeout)
            msg += " (use --timeout to wait longer)";
        return error(msg);
    }

    if (resp.has_error()) {
        std::fprintf(stderr, "%s\n", cli::format_error(resp.error(), opts, req).c_str());
        return kExitError;
    }
    if (resp.body_case() != cli::expected_body(req))
        return error("unexpected reply from switchd (expected " +
                     cli::body_name(cli::expected_body(req)) + ", got " +
                     cli::body_name(resp.body_case()) + ")");

    if (opts.format == cli::Format::kJson) {
        std::string json;
        if (!cli::format_json(resp, json, err)) return error(err);
        return emit(json);
    }
    return emit(cli::format_text(resp));
}
