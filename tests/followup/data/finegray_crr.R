# Reference values for tests/followup/test_finegray_cmprsk.py from R's cmprsk::crr.
# Run from this folder:  Rscript finegray_crr.R
# Writes crr_example.csv (the data of the ?crr help-page example) and finegray_crr.csv
# (coefficients, model-based and crr's own standard errors, log partial likelihood).
library(cmprsk)

out <- NULL
record <- function(name, fit) {
  out <<- rbind(out, data.frame(
    dataset = name,
    term = names(fit$coef),
    coef = unname(fit$coef),
    se_model = sqrt(diag(fit$invinf)),  # inverse information (model-based)
    se_crr = sqrt(diag(fit$var)),       # crr's sandwich, with the estimation of G
    loglik = fit$loglik,
    loglik_null = fit$loglik.null,
    converged = fit$converged,
    n = fit$n,
    r_version = R.version.string,
    cmprsk_version = as.character(packageVersion("cmprsk"))
  ))
}

# (a) the example of the crr help page (cmprsk 2.2-11)
set.seed(10)
ftime <- rexp(200)
fstatus <- sample(0:2, 200, replace = TRUE)
cov <- matrix(runif(600), nrow = 200)
dimnames(cov)[[2]] <- c("x1", "x2", "x3")
write.csv(data.frame(ftime = sprintf("%.17g", ftime), fstatus = fstatus,
                     x1 = sprintf("%.17g", cov[, 1]), x2 = sprintf("%.17g", cov[, 2]),
                     x3 = sprintf("%.17g", cov[, 3])),
          "crr_example.csv", row.names = FALSE, quote = FALSE)
record("help_example_failcode1", crr(ftime, fstatus, cov, gtol = 1e-10, maxiter = 50))
record("help_example_failcode2", crr(ftime, fstatus, cov, failcode = 2, gtol = 1e-10,
                                     maxiter = 50))

# (b) the synthetic cohort written by make_finegray_cohort.py (tied day-level times)
d <- read.csv("finegray_cohort.csv")
x <- cbind(
  minor = d$minor,
  "sex=male" = as.numeric(d$sex == "male"),
  "nationality_group=EU" = as.numeric(d$nationality_group == "EU"),
  "nationality_group=non-EU" = as.numeric(d$nationality_group == "non-EU"),
  "nationality_group=unknown" = as.numeric(d$nationality_group == "unknown")
)
record("cohort_failcode1", crr(d$duration, d$status, x, gtol = 1e-10, maxiter = 50))
record("cohort_failcode2", crr(d$duration, d$status, x, failcode = 2, gtol = 1e-10,
                               maxiter = 50))

write.csv(format(out, digits = 15), "finegray_crr.csv", row.names = FALSE)
print(out[, 1:6], digits = 10)
