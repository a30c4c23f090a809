// libmf_curve: time LIBMF's training to each iteration count and score it on
// a test set, the way `movierec eval --curve` reports movierec's fit.
//
// This file is movierec's own driver; it contains no LIBMF code. It links
// against an unmodified LIBMF build (mf.o and mf.h from LIBMF_SRC), see
// scripts/peers/libmf.sh.
//
// For each iteration count t in the list it runs mf_train from scratch with
// nr_iters = t (LIBMF has no per-iteration callback, and its verbose mode
// spends a full pass over the training and test sets on every iteration),
// times the mf_train call alone (reading the text files is not counted,
// as movierec's curve does not count its CSV parsing), and scores the
// model on the test set with predictions clamped to [min, max], as
// movierec's eval clamps to the rating scale.
//
// usage: libmf_curve -k 64 -l2 0.02 -s 2 -t 1,2,3 -min 0.5 -max 5 train.txt test.txt
// output: one line per t: "iterations <t> seconds <s> test_rmse <r>".
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "mf.h"

using namespace mf;

static void usage() {
    std::fprintf(stderr,
                 "usage: libmf_curve [-k rank] [-l2 lambda] [-s threads] [-t 1,2,...] "
                 "[-min r] [-max r] train.txt test.txt\n");
    std::exit(2);
}

int main(int argc, char **argv) {
    mf_parameter param = mf_get_default_param();
    param.quiet = true;
    param.copy_data = false;  // as mf-train does
    std::vector<int> iters;
    double lo = -INFINITY, hi = INFINITY;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc) usage();
        std::string f = argv[i], v = argv[i + 1];
        if (f == "-k") {
            param.k = std::atoi(v.c_str());
        } else if (f == "-l2") {
            param.lambda_p2 = param.lambda_q2 = std::atof(v.c_str());
        } else if (f == "-s") {
            param.nr_threads = std::atoi(v.c_str());
        } else if (f == "-t") {
            std::stringstream ss(v);
            std::string part;
            while (std::getline(ss, part, ',')) iters.push_back(std::atoi(part.c_str()));
        } else if (f == "-min") {
            lo = std::atof(v.c_str());
        } else if (f == "-max") {
            hi = std::atof(v.c_str());
        } else {
            usage();
        }
    }
    if (argc - i != 2 || iters.empty()) usage();
    mf_problem tr = read_problem(argv[i]);
    mf_problem te = read_problem(argv[i + 1]);
    if (tr.nnz == 0 || te.nnz == 0) {
        std::fprintf(stderr, "libmf_curve: empty training or test set\n");
        return 1;
    }
    std::fprintf(stderr, "libmf_curve: %lld training and %lld test ratings, k %d, l2 %g, %d threads\n",
                 (long long)tr.nnz, (long long)te.nnz, param.k, param.lambda_p2, param.nr_threads);
    for (int t : iters) {
        param.nr_iters = t;
        auto start = std::chrono::steady_clock::now();
        mf_model *model = mf_train(&tr, param);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (model == nullptr) {
            std::fprintf(stderr, "libmf_curve: mf_train failed at %d iterations\n", t);
            return 1;
        }
        double se = 0;
        for (mf_long j = 0; j < te.nnz; j++) {
            const mf_node &n = te.R[j];
            double p = mf_predict(model, n.u, n.v);
            p = std::fmax(lo, std::fmin(hi, p));
            double d = p - n.r;
            se += d * d;
        }
        std::printf("iterations %d seconds %.3f test_rmse %.4f\n", t, secs, std::sqrt(se / te.nnz));
        std::fflush(stdout);
        mf_destroy_model(&model);
    }
    delete[] tr.R;
    delete[] te.R;
    return 0;
}
