"""The research group's own EM for the softmax-gated Gaussian MoE, ported to numpy, against ours on the same data.

Question (docs/crpe_sgame.md, "Their EM on our data"): does the group's exact-fitted CRPE-SGaME slope (-0.638
[-0.648, -0.626] on their stored losses, model 1, K = 2) come from their EM implementation stopping short of the
MLE, when our EM on their design gives the theory's -1/2?

Sources ported (line-for-line, numpy; R's 1-based indices become 0-based):

* ``their_em`` -- ``emNMoE`` of Trung-TinNGUYEN/meteoritsSim @23e736b (R/emNMoE.R), with the E-step
  ``StatNMoE$EStep`` and ``computeLikelihood`` (R/StatNMoE.R) and the M-step ``ParamNMoE$MStep`` (R/ParamNMoE.R):
  loop ``while (!converge && iter <= max_iter)``: E-step, M-step (IRLS gate, weighted least squares experts,
  variances with the new experts), log-likelihood = sum_i log sum_k pi_ik f_ik at the parameters BEFORE the
  M-step, stop when |(loglik - prev) / prev| <= threshold, or after more than 20 decreases by > 1e-5.
* ``their_start`` -- ``ParamNMoE$initParam`` with ``nearTrue = TRUE`` (R/ParamNMoE.R): for K = K* = 2 the
  component order is the truth's; one N(0, 0.005 n^-0.083) draw added to BOTH gate coefficients, one
  N(0, 0.05 n^-0.083) draw to both coefficients of each expert, and ``sigma2 = sigmak_0 + |N(0, 0.005 n^-0.25)|``
  where CRPE-SGaME passes ``sigmak_0 = Sigmasr = (0.3, 0.4)``, the STANDARD DEVIATIONS that ``sampleUnivNMoE``
  samples with: their EM starts from variances 0.3 and 0.4 (the truth: 0.09 and 0.16). R's RNG is not
  reproduced: the draws come from numpy, seeded by (seed, n).
* ``irls`` -- ``IRLS`` of meteoritsSim @23e736b (src/IRLS.cpp, lambda = 0, ``updateIRLS = TRUE``): Newton steps
  on Q(W) = sum_ik tau_ik log pi_ik(W) from the current gate, at most 300, each halved while Q decreases (no cap
  on the halvings), stop when |dQ / Q| <= 1e-7 or |dQ| <= 1e-6; ``multinomial_logit`` -- src/multinomialLogit.cpp
  (logits shifted by their row max and clipped to [-745.1, 709.78]).
* the call -- Trung-TinNGUYEN/CRPE-SGaME @53c4234 experiment.py: ``emNMoE(X, Y, K, d = 1, l = 1, n_tries = 1,
  max_iter = 2000, eps = 1e-6, ..., update_IRLS = True, nearTrue = True, alphak_0 = betasr, betak_0 = Asr,
  sigmak_0 = Sigmasr)`` with models.py model 1 (gate -8 + 25 x, experts 15 - 20 x and -5 + 20 x, sd 0.3, 0.4) and
  X = linspace(0, 1, n).

Which meteoritsSim the group's stored results used is not recorded (the CRPE-SGaME commit installs the GitHub
HEAD; the NMoE files are unchanged since meteoritsSim's first commit, 2023-10-19).

Data: our ``hmoe rates --spec docs/specs/crpe_sgame/exact.toml --n 1e2:1e5:10 --reps 20 --seed 2023`` samples
(replicate._Data with the spec's grid design; per-replicate seeds read from docs/crpe_sgame/exact_linspace/
fits.csv), so the ``ours`` fits below are the stored run's fits (checked: their D2 equals the stored one).

Fits per (n, replicate), all on the same sample:

* ``their``        -- their EM from their start (the group's protocol);
* ``their_truth``  -- their EM from the exact truth (variances 0.09, 0.16, no kick);
* ``ours``         -- our EM exactly as ``hmoe rates --spec`` runs it (replicate._fit, the spec's n^-1/4 kick);
* ``ours_their_start`` -- our EM (replicate._fit) from the same start as ``their``;
* ``mle``          -- our EM continued from ``their``'s end point. ``ll_gap_total``: n times the mean
  log-likelihood below the best of the five fits of the cell.

Loss: D2 with the ``rbar`` preset (replicate.losses "voronoi"; equals their ``loss_SGaME_exact``). Slopes: OLS of
log mean loss on log n with the replicate bootstrap (rates.analyse_rate, 2000 resamples, seed 0) over all fits.

Other modes (need R with meteoritsSim @23e736b installed in RLIB; SRC its source tree):

* ``--check-r RLIB SRC`` -- the port against their R code from the same start on the same samples;
* ``--r-pipeline RLIB [--sizes ..] [--reps ..] [--tag ..]`` -- their whole pipeline in R (their sampler, their
  start with R's kick, their EM), our D2 on its fits, the slope;
* ``--size-labels LOSS_NPY`` -- their stored K = 2 losses (CRPE-SGaME @53c4234 results_SGaME/
  result_model1_K2_ns_min100_ns_max100000_n_num200_rep40_ntries1_loss.npy) under each size grid of their scripts
  against the MLE's mean-loss curve from ``--r-pipeline`` (docs/crpe_sgame.md, "Their EM on our data").

Run:  nice -n 10 .venv/bin/python benchmarks/crpe_sgame_their_em.py [--reps 20] [--out docs/crpe_sgame/their_em]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.em import GaussianMoEParams, mean_log_likelihood
from hmoe_theory.estimation.rates import ReplicateGrid, analyse_rate
from hmoe_theory.estimation.setting import load_setting_file

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "specs" / "crpe_sgame" / "exact.toml"
STORED = ROOT / "docs" / "crpe_sgame" / "exact_linspace" / "fits.csv"
SIZES = (100, 215, 464, 1000, 2154, 4642, 10000, 21544, 46416, 100000)  # --n 1e2:1e5:10 as stored

# the group's model 1 in THEIR layout (models.py): alpha (q+1, K-1) = [intercept; slope] of the gate of
# component 1; beta (p+1, K) = [intercept; slope] per expert; Sigmasr = standard deviations
ALPHA_TRUE = np.array([[-8.0], [25.0]])
BETA_TRUE = np.array([[15.0, -5.0], [-20.0, 20.0]])
SD_TRUE = np.array([0.3, 0.4])
MAX_ITER = 2000  # experiment.py --maxit default, execute.sh
THRESHOLD = 1e-6  # experiment.py --eps default
IRLS_MAX_ITER = 300  # src/IRLS.cpp
METHODS = ("their", "their_truth", "ours", "ours_their_start", "mle")


# -- the port ------------------------------------------------------------------------------------------
def multinomial_logit(W: np.ndarray, Xw: np.ndarray, Tau: np.ndarray) -> tuple[float, np.ndarray]:
    """src/multinomialLogit.cpp (Gamma = 1): Q = sum_ik Tau_ik log pi_ik(W) and pi (n, K); W (q+1, K-1)."""
    Wc = np.concatenate([W, np.zeros((W.shape[0], 1))], axis=1)
    XW = Xw @ Wc
    XW = XW - XW.max(axis=1, keepdims=True)
    XW = np.minimum(np.maximum(XW, -745.1), 709.78)
    expXW = np.exp(XW)
    total = expXW.sum(axis=1, keepdims=True)
    piik = expXW / total
    loglik = float(np.sum(Tau * XW - Tau * np.log(total)))
    return loglik, piik


def irls(Xw: np.ndarray, Tau: np.ndarray, Winit: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """src/IRLS.cpp with lambda = 0 and updateIRLS = TRUE: the new gate W, pi at W and the Newton steps taken."""
    n, K = Tau.shape
    q = Xw.shape[1]
    W_old = Winit.copy()
    loglik_old, piik_old = multinomial_logit(W_old, Xw, Tau)
    it, converge = 0, False
    W, piik = W_old, piik_old
    while not converge and it < IRLS_MAX_ITER:
        gw = np.zeros((q, K - 1))
        for k in range(K - 1):
            gw[:, k] = Xw.T @ (Tau[:, k] - piik_old[:, k])
        g = gw.reshape(-1, order="F")  # arma vectorise: column-major
        H = np.zeros((q * (K - 1), q * (K - 1)))
        for k in range(K - 1):
            for ell in range(K - 1):
                gwk = piik_old[:, k] * (float(k == ell) - piik_old[:, ell])
                H[k * q:(k + 1) * q, ell * q:(ell + 1) * q] = -(Xw.T @ (gwk[:, None] * Xw))
        Hinv = np.linalg.inv(H)
        w_old = W_old.reshape(-1, order="F")
        stepsize = 1.0
        W = (w_old - stepsize * Hinv @ g).reshape(q, K - 1, order="F")
        loglik, piik = multinomial_logit(W, Xw, Tau)
        while loglik < loglik_old:  # no cap: at stepsize 0 (after ~1075 halvings) W = W_old and the loop ends
            stepsize /= 2
            W = (w_old - stepsize * Hinv @ g).reshape(q, K - 1, order="F")
            loglik, piik = multinomial_logit(W, Xw, Tau)
        converge = abs((loglik - loglik_old) / loglik_old) <= 1e-7 or abs(loglik - loglik_old) <= 1e-6
        piik_old, W_old = piik, W
        it += 1
        loglik_old = loglik
    return W, piik, it


def their_start(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ParamNMoE$initParam(nearTrue = TRUE) for K = K* = 2 with CRPE-SGaME's arguments (module docstring)."""
    alpha = ALPHA_TRUE + rng.normal(0.0, 0.005 * n ** -0.083)  # one draw, recycled over the column
    beta = BETA_TRUE.copy()
    sigma2 = np.empty((1, 2))
    for i in range(2):
        beta[:, i] = BETA_TRUE[:, i] + rng.normal(0.0, 0.05 * n ** -0.083)
        sigma2[0, i] = SD_TRUE[i] + abs(rng.normal(0.0, 0.005 * n ** -0.25))  # sd passed as a variance start
    return alpha, beta, sigma2


def their_em(x: np.ndarray, Y: np.ndarray, alpha: np.ndarray, beta: np.ndarray, sigma2: np.ndarray,
             max_iter: int = MAX_ITER, threshold: float = THRESHOLD) -> dict:
    """emNMoE (n_tries = 1) from the given start: final alpha, beta, sigma2, log-likelihood trace and counts."""
    n = len(Y)
    K = beta.shape[1]
    Xb = np.stack([np.ones(n), x], axis=1)  # designmatrix(x, p = 1)
    Xw = Xb  # q = 1
    alpha, beta, sigma2 = alpha.copy(), beta.copy(), sigma2.copy()
    it, converge, prev, top = 0, False, -np.inf, 0
    stored, irls_steps = [], []
    while not converge and it <= max_iter:
        # E-step (StatNMoE$EStep)
        _, piik = multinomial_logit(alpha, Xw, np.ones((n, K)))
        log_piik_fik = np.empty((n, K))
        for k in range(K):
            muk = Xb @ beta[:, k]
            log_piik_fik[:, k] = (np.log(piik[:, k]) - 0.5 * np.log(2 * np.pi) - 0.5 * np.log(sigma2[0, k])
                                  - 0.5 * (Y - muk) ** 2 / sigma2[0, k])
        log_sum = np.log(np.exp(log_piik_fik).sum(axis=1))
        ttik = np.exp(log_piik_fik - log_sum[:, None])
        tik = ttik / ttik.sum(axis=1, keepdims=True)
        # M-step (ParamNMoE$MStep)
        alpha, _, steps = irls(Xw, tik, alpha)
        irls_steps.append(steps)
        for k in range(K):
            Xbeta = Xb * np.sqrt(tik[:, k])[:, None]
            yk = Y * np.sqrt(tik[:, k])
            beta[:, k] = np.linalg.inv(Xbeta.T @ Xbeta) @ (Xbeta.T @ yk)
            sigma2[0, k] = np.sum(tik[:, k] * (Y - Xb @ beta[:, k]) ** 2) / np.sum(tik[:, k])
        loglik = float(log_sum.sum())  # computeLikelihood: at the parameters of this E-step (reg_irls = 0)
        it += 1
        if prev - loglik > 1e-5:
            top += 1
            if top > 20:
                break
        with np.errstate(invalid="ignore"):
            ratio = abs((loglik - prev) / prev)
        converge = bool(ratio <= threshold) if np.isfinite(ratio) else False
        prev = loglik
        stored.append(loglik)
    return {"alpha": alpha, "beta": beta, "sigma2": sigma2, "loglik": stored, "iterations": it,
            "irls_steps": irls_steps, "converged": converge}


def to_flat(alpha: np.ndarray, beta: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """Their (alpha, beta, sigma2) as our flat theta, per component [gamma, c, a, alpha, nu] (component 2 pinned)."""
    return np.array([alpha[1, 0], alpha[0, 0], beta[1, 0], beta[0, 0], sigma2[0, 0],
                     0.0, 0.0, beta[1, 1], beta[0, 1], sigma2[0, 1]])


def from_flat(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.asarray(theta, dtype=float).reshape(2, 5)
    rows = rows - np.array([rows[1, 0], rows[1, 1], 0, 0, 0])  # pin component 2's gate
    alpha = np.array([[rows[0, 1]], [rows[0, 0]]])
    beta = np.array([[rows[0, 3], rows[1, 3]], [rows[0, 2], rows[1, 2]]])
    return alpha, beta, np.array([[rows[0, 4], rows[1, 4]]])


# -- the comparison ------------------------------------------------------------------------------------
def stored_seeds() -> dict[int, int]:
    with STORED.open() as f:
        return {int(r["rep"]): int(r["seed"]) for r in csv.DictReader(f)}


def stored_voronoi() -> dict[tuple[int, int], float]:
    with STORED.open() as f:
        return {(int(r["n"]), int(r["rep"])): float(r["voronoi"]) for r in csv.DictReader(f)}


def one_cell(setting, data: replicate._Data, seed: int, n: int, spec) -> list[dict]:
    at = setting.at(n)
    X, y = data.at(at, n)
    x = X[:, 0]
    mean_ll = lambda theta: mean_log_likelihood(X, y, GaussianMoEParams.from_flat(theta, 2, 1))  # noqa: E731
    rows = []

    def record(method: str, theta: np.ndarray, status: str, cpu: float, **extra) -> None:
        metrics = replicate.losses(at, theta, spec)
        rows.append({"n": n, "seed": seed, "method": method, "status": status, "voronoi": metrics["voronoi"],
                     "l2_error": metrics["l2_error"], "mean_loglik": mean_ll(theta), "cpu_s": cpu,
                     **extra, "theta": " ".join(f"{v:.9g}" for v in theta)})

    start = their_start(n, np.random.default_rng([seed, n, 7]))
    t0 = time.process_time()
    out = their_em(x, y, *start)
    theirs = to_flat(out["alpha"], out["beta"], out["sigma2"])
    record("their", theirs, "converged" if out["converged"] else "iteration-cap", time.process_time() - t0,
           iterations=out["iterations"], irls_steps=int(np.sum(out["irls_steps"])),
           irls_max=int(np.max(out["irls_steps"])))

    t0 = time.process_time()
    exact = their_em(x, y, ALPHA_TRUE, BETA_TRUE, SD_TRUE[None, :] ** 2)
    record("their_truth", to_flat(exact["alpha"], exact["beta"], exact["sigma2"]),
           "converged" if exact["converged"] else "iteration-cap", time.process_time() - t0,
           iterations=exact["iterations"], irls_steps=int(np.sum(exact["irls_steps"])),
           irls_max=int(np.max(exact["irls_steps"])))

    scale = setting.protocol.start_perturbation.at(n)
    t0 = time.process_time()
    fit = replicate._fit(at, X, y, replicate._fresh_start(at, seed, setting.name, n, scale))
    record("ours", fit.theta, fit.status, time.process_time() - t0, iterations=fit.iterations)

    t0 = time.process_time()
    fit = replicate._fit(at, X, y, to_flat(*start))
    record("ours_their_start", fit.theta, fit.status, time.process_time() - t0, iterations=fit.iterations)

    t0 = time.process_time()
    fit = replicate._fit(at, X, y, theirs)
    record("mle", fit.theta, fit.status, time.process_time() - t0, iterations=fit.iterations)
    best = max(r["mean_loglik"] for r in rows)
    for r in rows:
        r["ll_gap_total"] = (best - r["mean_loglik"]) * n  # total log-likelihood below the best fit found
    return rows


def analyse(rows: list[dict], method: str) -> dict:
    cells = [(r["n"], r["rep"], "converged", r["voronoi"]) for r in rows if r["method"] == method]
    result = analyse_rate(ReplicateGrid.from_cells(cells), method, "voronoi", n_boot=2000, seed=0)
    return {"slope": result.fit.slope, "ci": [result.fit.ci_low, result.fit.ci_high],
            "mean_loss": list(result.mean_loss)}


# -- the port against their R code -----------------------------------------------------------------------
R_CHECK = r"""
suppressMessages(library(methods))
args <- commandArgs(trailingOnly = TRUE)
lib <- args[1]; src <- args[2]; dir <- args[3]
suppressMessages(library(meteoritsSim, lib.loc = lib))
for (f in c("utils.R", "ParamNMoE.R", "StatNMoE.R", "ModelNMoE.R", "emNMoE.R")) source(file.path(src, "R", f))
IRLS <- meteoritsSim:::IRLS
multinomialLogit <- meteoritsSim:::multinomialLogit
# the start is given exactly (the package's own initParam adds R's random kick): initParam copies it
ParamNMoE$methods(initParam = function(segmental = FALSE, nearTrue, alphak_0, betak_0, sigmak_0) {
  alpha <<- alphak_0; beta <<- betak_0; sigma2 <<- sigmak_0 })
cases <- read.csv(file.path(dir, "cases.csv"))
out <- NULL
for (i in seq_len(nrow(cases))) {
  d <- read.csv(file.path(dir, paste0("data_", i - 1, ".csv")))
  c0 <- cases[i, ]
  m <- suppressMessages(emNMoE(d$x, d$y, 2, 1, 1, 1, 2000, 1e-6, FALSE, FALSE, update_IRLS = TRUE, nearTrue = TRUE,
              alphak_0 = matrix(c(c0$a0, c0$a1), ncol = 1),
              betak_0 = matrix(c(c0$b01, c0$b11, c0$b02, c0$b12), ncol = 2),
              sigmak_0 = matrix(c(c0$s1, c0$s2), ncol = 2)))
  p <- m$param
  out <- rbind(out, data.frame(case = i - 1, a0 = p$alpha[1, 1], a1 = p$alpha[2, 1], b01 = p$beta[1, 1],
                               b11 = p$beta[2, 1], b02 = p$beta[1, 2], b12 = p$beta[2, 2], s1 = p$sigma2[1],
                               s2 = p$sigma2[2], loglik = m$stat$loglik, iterations = length(m$stat$stored_loglik),
                               first_loglik = m$stat$stored_loglik[1]))
}
write.csv(out, file.path(dir, "r_fits.csv"), row.names = FALSE)
"""


def check_against_r(lib: str, src: str, reps: int = 3, sizes: tuple[int, ...] = (100, 1000, 10000, 100000)) -> dict:
    """Their EM in R (meteoritsSim installed in ``lib``, its sources in ``src``) against the port, from the same
    start on the same samples: the largest relative parameter difference and the iteration counts."""
    import subprocess
    import tempfile

    setting = load_setting_file(SPEC)
    seeds = stored_seeds()
    cases, ports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            data = replicate._Data(setting, seeds[rep], max(sizes))
            for n in sizes:
                X, y = data.at(setting.at(n), n)
                alpha, beta, sigma2 = their_start(n, np.random.default_rng([seeds[rep], n, 7]))
                np.savetxt(Path(tmp) / f"data_{len(cases)}.csv", np.column_stack([X[:, 0], y]), delimiter=",",
                           header="x,y", comments="", fmt="%.17g")
                cases.append({"rep": rep, "n": n, "a0": alpha[0, 0], "a1": alpha[1, 0], "b01": beta[0, 0],
                              "b11": beta[1, 0], "b02": beta[0, 1], "b12": beta[1, 1], "s1": sigma2[0, 0],
                              "s2": sigma2[0, 1]})
                ports.append(their_em(X[:, 0], y, alpha, beta, sigma2))
        with (Path(tmp) / "cases.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(cases[0]))
            writer.writeheader()
            for c in cases:
                writer.writerow({k: (repr(float(v)) if k not in ("rep", "n") else v) for k, v in c.items()})
        (Path(tmp) / "check.R").write_text(R_CHECK)
        done = subprocess.run(["Rscript", str(Path(tmp) / "check.R"), lib, src, tmp], capture_output=True, text=True)
        if done.returncode:  # R's class-cache notes (the sourced classes shadow the package's) go to stderr
            raise RuntimeError(done.stderr[-2000:])
        with (Path(tmp) / "r_fits.csv").open() as f:
            r_fits = list(csv.DictReader(f))
    rows = []
    for c, port, r in zip(cases, ports, r_fits):
        ours = to_flat(port["alpha"], port["beta"], port["sigma2"])
        theirs = to_flat(np.array([[float(r["a0"])], [float(r["a1"])]]),
                         np.array([[float(r["b01"]), float(r["b02"])], [float(r["b11"]), float(r["b12"])]]),
                         np.array([[float(r["s1"]), float(r["s2"])]]))
        free = [0, 1, 2, 3, 4, 7, 8, 9]
        rows.append({"rep": c["rep"], "n": c["n"],
                     "max_rel_param_diff": float(np.max(np.abs(ours[free] - theirs[free]) / np.abs(theirs[free]))),
                     "rel_loglik_diff": abs(port["loglik"][-1] - float(r["loglik"])) / abs(float(r["loglik"])),
                     # the log-likelihood at the start: the R run started where the port did
                     "rel_first_loglik_diff": abs(port["loglik"][0] - float(r["first_loglik"]))
                     / abs(float(r["first_loglik"])),
                     "iterations_port": port["iterations"], "iterations_r": int(r["iterations"])})
    return {"cases": rows, "max_rel_param_diff": max(r["max_rel_param_diff"] for r in rows),
            "max_rel_loglik_diff": max(r["rel_loglik_diff"] for r in rows),
            "max_rel_first_loglik_diff": max(r["rel_first_loglik_diff"] for r in rows),
            "same_iterations": all(r["iterations_port"] == r["iterations_r"] for r in rows)}


# -- their whole pipeline in R: their sampler and their EM (no port) ------------------------------------
R_PIPELINE = r"""
args <- commandArgs(trailingOnly = TRUE)
lib <- args[1]; out <- args[2]; reps <- as.integer(args[3]); sizes <- as.integer(strsplit(args[4], ",")[[1]])
suppressMessages(library(meteoritsSim, lib.loc = lib))
# models.py model 1 (betasr, Asr, Sigmasr) and experiment.py's calls, with set.seed per (replicate, size)
betasr <- matrix(c(-8, 25), ncol = 1); Asr <- matrix(c(15, -20, -5, 20), ncol = 2)
Sigmasr <- matrix(c(0.3, 0.4), ncol = 2)
res <- NULL
for (rep in 0:(reps - 1)) for (n in sizes) {
  set.seed((2023 * 7919 + rep * 104729 + n) %% 2147483647)
  X <- seq(0, 1, length.out = n)
  Y <- sampleUnivNMoE(alphak = betasr, betak = Asr, sigmak = Sigmasr, x = X)$y
  t0 <- proc.time()[["user.self"]]
  m <- emNMoE(X, Y, 2, 1, 1, 1, 2000, 1e-6, FALSE, FALSE, update_IRLS = TRUE, nearTrue = TRUE,
              alphak_0 = betasr, betak_0 = Asr, sigmak_0 = Sigmasr)
  p <- m$param
  res <- rbind(res, data.frame(n = n, rep = rep, a0 = p$alpha[1, 1], a1 = p$alpha[2, 1], b01 = p$beta[1, 1],
                               b11 = p$beta[2, 1], b02 = p$beta[1, 2], b12 = p$beta[2, 2], s1 = p$sigma2[1],
                               s2 = p$sigma2[2], loglik = m$stat$loglik,
                               iterations = length(m$stat$stored_loglik),
                               em_cpu_s = proc.time()[["user.self"]] - t0))
}
write.csv(res, out, row.names = FALSE)
"""


def r_pipeline(lib: str, sizes: list[int], reps: int, out: Path) -> dict:
    """The group's pipeline run in R with meteoritsSim (installed in ``lib``): their sampler (sampleUnivNMoE on
    X = seq(0, 1, length.out = n)), their EM with their start (emNMoE, nearTrue = TRUE, R's own kick), one
    independent sample per (replicate, size); our D2 on the fits and the slope."""
    import subprocess
    import tempfile

    setting = load_setting_file(SPEC)
    spec = replicate.loss_spec(setting)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "pipeline.R"
        script.write_text(R_PIPELINE)
        raw = Path(tmp) / "fits.csv"
        done = subprocess.run(["Rscript", str(script), lib, str(raw), str(reps), ",".join(map(str, sizes))],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        with raw.open() as f:
            fits = list(csv.DictReader(f))
    rows = []
    for r in fits:
        alpha = np.array([[float(r["a0"])], [float(r["a1"])]])
        beta = np.array([[float(r["b01"]), float(r["b02"])], [float(r["b11"]), float(r["b12"])]])
        theta = to_flat(alpha, beta, np.array([[float(r["s1"]), float(r["s2"])]]))
        n = int(r["n"])
        metrics = replicate.losses(setting.at(n), theta, spec)
        rows.append({"n": n, "rep": int(r["rep"]), "voronoi": metrics["voronoi"], "l2_error": metrics["l2_error"],
                     "mean_loglik": float(r["loglik"]) / n, "iterations": int(r["iterations"]),
                     "em_cpu_s": float(r["em_cpu_s"]), "theta": " ".join(f"{v:.10g}" for v in theta)})
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    cells = [(r["n"], r["rep"], "converged", r["voronoi"]) for r in rows]
    result = analyse_rate(ReplicateGrid.from_cells(cells), "their-R-pipeline", "voronoi", n_boot=2000, seed=0)
    return {"sizes": sizes, "reps": reps, "slope": result.fit.slope, "ci": [result.fit.ci_low, result.fit.ci_high],
            "mean_loss": list(result.mean_loss), "em_cpu_s": sum(r["em_cpu_s"] for r in rows),
            "max_iterations": max(r["iterations"] for r in rows)}


# -- which sizes their stored K = 2 losses were fitted at ---------------------------------------------------
def size_grids(n_num: int = 200, ns_min: int = 100, ns_max: int = 100000) -> dict[str, np.ndarray]:
    """The size grids written in CRPE-SGaME @53c4234 experiment.py / params_to_metric_SGaME.py /
    plotting_SGaME.py for K = K*: the active line (``code``) and the commented ones (``commented_*``)."""
    return {
        "code: 5 in 100..900 + 195 in 1e3..1e5": np.concatenate(
            [np.linspace(ns_min, 9 * ns_min, 5), np.linspace(10 * ns_min, ns_max, n_num - 5)]),
        "commented: 20 in 100..1000 + 180 in 1e3..1e5": np.concatenate(
            [np.linspace(100, 1000, 20), np.linspace(1000, ns_max, n_num - 20)]),
        "commented: 10 in 100..900 + 190 in 1e3..1e5": np.concatenate(
            [np.linspace(ns_min, 9 * ns_min, 10), np.linspace(10 * ns_min, ns_max, n_num - 10)]),
        "commented: 200 in 100..1e5": np.linspace(ns_min, ns_max, n_num),
    }


def size_labels(stored_loss: Path, pipeline_csv: Path) -> dict:
    """Their stored K = 2 losses (result_model1_K2_ns_min100_ns_max100000_n_num200_rep40_ntries1_loss.npy, 200
    sizes x 40 replicates; the arrays carry no n) against the MLE's mean-loss curve (their own R pipeline,
    ``pipeline_csv``: a quadratic in log n fitted to log mean D2), under each size grid of their code, and under
    the family concat(linspace(100, a, k), linspace(1000, 1e5, 200 - k)): the OLS slope with its replicate
    bootstrap CI (rates.bootstrap_weights, 2000, seed 0) and log(stored mean / MLE curve) in blocks of 10 sizes."""
    from hmoe_theory.estimation.rates import bootstrap_weights, masked_ols, percentile_ci

    loss = np.load(stored_loss)  # (sizes, replicates)
    with pipeline_csv.open() as f:
        fits = list(csv.DictReader(f))
    sizes = sorted({int(r["n"]) for r in fits})
    means = [np.mean([float(r["voronoi"]) for r in fits if int(r["n"]) == n]) for n in sizes]
    curve = np.polyfit(np.log(sizes), np.log(means), 2)
    mle = lambda n: np.exp(np.polyval(curve, np.log(n)))  # noqa: E731
    weights = bootstrap_weights(loss.shape[1], 2000, 0)
    y, boot = np.log(loss.mean(axis=1)), np.log(weights @ loss.T / loss.shape[1])

    def judged(grid: np.ndarray) -> dict:
        n = grid.astype(int).astype(float)
        x = np.log(n)
        ratio = y - np.log(mle(n))
        blocks = [float(np.mean(ratio[i:i + 10])) for i in range(0, 60, 10)]
        return {"slope": float(masked_ols(x, y)[0]), "ci": list(percentile_ci(masked_ols(x, boot)[0])),
                "log_ratio_blocks_of_10_first_60": blocks, "log_ratio_last_140": float(np.mean(ratio[60:])),
                "rms_blocks": float(np.sqrt(np.mean(np.square(blocks))))}

    family = []
    for k in (5, 10, 15, 20, 25, 30, 40):
        for a in (900, 1000):
            grid = np.concatenate([np.linspace(100, a, k), np.linspace(1000, 1e5, 200 - k)])
            family.append({"k": k, "a": a, **judged(grid)})
    code, commented = (size_grids()[name].astype(int) for name in
                       ("code: 5 in 100..900 + 195 in 1e3..1e5", "commented: 20 in 100..1000 + 180 in 1e3..1e5"))
    picks = {str(i): {"mean": float(loss[i].mean()), "n_code": int(code[i]), "mle_at_n_code": float(mle(code[i])),
                      "n_commented_20": int(commented[i]), "mle_at_n_commented_20": float(mle(commented[i]))}
             for i in (4, 10, 19, 20, 24, 30)}
    return {"mle_curve_log_quadratic": list(curve),
            "mle_at": {str(n): float(mle(n)) for n in (100, 1000, 10000, 100000)},
            "grids": {name: judged(g) for name, g in size_grids().items()},
            "family_by_rms": sorted(family, key=lambda r: r["rms_blocks"]),
            "stored_mean_at_index": picks,
            "stored_mean_loss_per_index": [float(v) for v in loss.mean(axis=1)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--out", default=str(ROOT / "docs" / "crpe_sgame" / "their_em"))
    parser.add_argument("--check-r", nargs=2, metavar=("RLIB", "SRC"),
                        help="only compare the port with meteoritsSim's R code (installed in RLIB, sources in SRC)")
    parser.add_argument("--r-pipeline", metavar="RLIB",
                        help="only run the group's pipeline in R (meteoritsSim installed in RLIB) at --sizes, --reps")
    parser.add_argument("--tag", default="log_sizes", help="name of the --r-pipeline result files")
    parser.add_argument("--size-labels", metavar="LOSS_NPY",
                        help="only judge the size grid of their stored K = 2 losses (against --out's "
                             "r_pipeline_log_sizes.csv)")
    args = parser.parse_args()
    if args.size_labels:
        out = Path(args.out)
        result = size_labels(Path(args.size_labels), out / "r_pipeline_log_sizes.csv")
        (out / "stored_size_labels.json").write_text(json.dumps(result, indent=1))
        print(json.dumps({k: result[k] for k in ("grids", "stored_mean_at_index")}, indent=1))
        print(json.dumps(result["family_by_rms"][:3], indent=1))
        return
    if args.r_pipeline:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        sizes = [int(v) for v in args.sizes.split(",")]
        result = r_pipeline(args.r_pipeline, sizes, args.reps, out / f"r_pipeline_{args.tag}.csv")
        (out / f"r_pipeline_{args.tag}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
        return
    if args.check_r:
        result = check_against_r(*args.check_r)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "port_vs_r.json").write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "cases"}, indent=1))
        return
    sizes = [int(v) for v in args.sizes.split(",")]
    setting = load_setting_file(SPEC)
    seeds = stored_seeds()
    spec = replicate.loss_spec(setting)
    rows: list[dict] = []
    t_all = time.process_time()
    with threadpool_limits(limits=1):
        for rep in range(args.reps):
            data = replicate._Data(setting, seeds[rep], max(sizes))
            for n in sizes:
                for row in one_cell(setting, data, seeds[rep], n, spec):
                    rows.append({"rep": rep, **row})
            print(f"rep {rep} done, {time.process_time() - t_all:.0f} CPU s", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fields = ["n", "rep", "seed", "method", "status", "voronoi", "l2_error", "mean_loglik", "ll_gap_total", "cpu_s",
              "iterations", "irls_steps", "irls_max", "theta"]
    with (out / "fits.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        for r in rows:  # 9 significant digits; the fitted parameters of their EM's fits only (the rest: rerun)
            writer.writerow({k: (f"{v:.9g}" if isinstance(v, float) else v) for k, v in r.items()
                             if k != "theta" or r["method"] == "their"})
    stored = stored_voronoi()
    ours = [r for r in rows if r["method"] == "ours"]
    summary = {
        "sizes": sizes, "reps": args.reps, "cpu_s_total": time.process_time() - t_all,
        "ours_equals_stored_run_max_rel_diff": max(abs(r["voronoi"] - stored[(r["n"], r["rep"])]) /
                                                    stored[(r["n"], r["rep"])] for r in ours),
        "methods": {},
    }
    for method in METHODS:
        sel = [r for r in rows if r["method"] == method]
        info = analyse(rows, method)
        info.update(
            converged=sum(r["status"] == "converged" for r in sel), fits=len(sel),
            cpu_s=sum(r["cpu_s"] for r in sel),
            median_ll_gap_total=[float(np.median([r["ll_gap_total"] for r in sel if r["n"] == n])) for n in sizes],
            max_ll_gap_total=[float(np.max([r["ll_gap_total"] for r in sel if r["n"] == n])) for n in sizes],
            median_iterations=[float(np.median([float(r["iterations"]) for r in sel if r["n"] == n])) for n in sizes],
        )
        summary["methods"][method] = info
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({m: {k: v for k, v in i.items() if k in ("slope", "ci", "converged", "cpu_s")}
                      for m, i in summary["methods"].items()}, indent=1))


if __name__ == "__main__":
    main()
