# Reference values for tests/mse/test_bayes_reference.py: R's LCMCR 0.4.14 and dga 2.0.2,
# built from their CRAN sources (cran/LCMCR, cran/dga) with Debian's R 4.2.2 and GSL 2.7.
# Run: Rscript tests/mse/r/bayes_reference.R /work/shared/reference/mse
args <- commandArgs(trailingOnly = TRUE)
ref <- if (length(args)) args[1] else "/work/shared/reference/mse"
suppressPackageStartupMessages({ library(LCMCR); library(dga) })
read_table <- function(name) {
  d <- read.csv(file.path(ref, paste0(name, ".csv")))
  lists <- setdiff(names(d), "count")
  list(d = d, lists = lists)
}
# dga::bma.cr with its defaults as thbmonitor uses them: delta = 1/2^k, prior -log(N),
# Nmissing = 0 .. 20 n; posterior median and equal-tailed 95% limits (smallest N whose
# cumulative posterior reaches the level).
dga_ref <- function(name) {
  t <- read_table(name); d <- t$d; k <- length(t$lists)
  Y <- array(0, dim = rep(2, k))
  for (r in seq_len(nrow(d))) {
    idx <- matrix(as.integer(unlist(d[r, t$lists])) + 1L, nrow = 1)
    Y[idx] <- Y[idx] + d$count[r]
  }
  n <- sum(Y); Nmissing <- 0:(20 * n)
  data(list = paste0("graphs", k), package = "dga", envir = environment())
  graphs <- get(paste0("graphs", k))
  w <- bma.cr(Y, Nmissing, 1 / 2^k, graphs)
  post <- colSums(w); cdf <- cumsum(post); N <- Nmissing + n
  q <- function(p) N[min(which(cdf >= p - 1e-12))]
  top <- order(-rowSums(w))[1:3]
  cat(sprintf("dga %s: n=%d graphs=%d median=%d lower=%d upper=%d mean=%.4f top_weights=%s\n",
              name, n, length(graphs), q(0.5), q(0.025), q(0.975), sum(N * post),
              paste(sprintf("%.6f", rowSums(w)[top]), collapse = ",")))
}
# LCMCR: K = 10, a_alpha = b_alpha = 0.25, several seeds; each run's median and 2.5/97.5%
# quantiles (R's type 7) of N. The spread over seeds is the Monte Carlo error.
lcmcr_ref <- function(name, burnin, samples, thinning, seeds) {
  t <- read_table(name); d <- t$d
  indiv <- d[rep(seq_len(nrow(d)), d$count), t$lists]
  indiv[] <- lapply(indiv, function(x) factor(x, levels = c(0, 1)))
  for (s in seeds) {
    el <- system.time({
      sampler <- lcmCR(captures = indiv, tabular = FALSE, in_list_label = "1",
                       not_in_list_label = "0", K = 10, a_alpha = 0.25, b_alpha = 0.25,
                       seed = s, buffer_size = 10000, thinning = thinning, verbose = FALSE)
      N <- lcmCR_PostSampl(sampler, burnin = burnin, samples = samples,
                           thinning = thinning, output = FALSE)
    })[["elapsed"]]
    q <- quantile(N, c(0.025, 0.5, 0.975))
    cat(sprintf("lcmcr %s seed=%d burnin=%d samples=%d thin=%d: median=%.1f lower=%.1f upper=%.1f mean=%.2f elapsed=%.2f\n",
                name, s, burnin, samples, thinning, q[2], q[1], q[3], mean(N), el))
  }
}
for (name in c("Korea", "Kosovo", "UKdat_5", "Western")) dga_ref(name)
for (name in c("Korea", "Kosovo", "Western")) lcmcr_ref(name, 10000, 5000, 20, 1:5)
