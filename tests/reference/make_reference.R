## Reference values for skinfluence's R-parity tests.
##
## Reads data/manifest.csv and the CSVs written by export_data.py, fits each
## model with base R (stats only, no CRAN packages) and writes
## data/<name>_R.json.gz (gzip-compressed JSON; plain JSON would be ~1.5 MB).
## JSON is written by hand (no jsonlite) with sprintf("%.17g"), so every
## double round-trips exactly.  Non-finite values are written as null.
##
## Usage (from anywhere):  Rscript tests/reference/make_reference.R
## or just run tests/reference/regenerate.sh

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else getwd()
data_dir <- file.path(here, "data")

## ---------------------------------------------------------------- JSON helpers
jnum <- function(x) {
  x <- as.numeric(x)
  s <- sprintf("%.17g", x)
  s[!is.finite(x)] <- "null"          # NaN / NA / Inf -> null
  s
}
jvec <- function(x) paste0("[", paste(jnum(x), collapse = ","), "]")
jint <- function(x) paste0("[", paste(as.integer(x), collapse = ","), "]")
jstr <- function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\"")
jstrvec <- function(x) paste0("[", paste(jstr(x), collapse = ","), "]")
jmat <- function(m, f = jvec) {
  m <- as.matrix(m)
  rows <- vapply(seq_len(nrow(m)), function(i) f(m[i, ]), "")
  paste0("[\n    ", paste(rows, collapse = ",\n    "), "\n  ]")
}
write_json <- function(fields, path) {
  body <- paste0("  ", jstr(names(fields)), ": ", unlist(fields), collapse = ",\n")
  con <- gzfile(path, "w", compression = 9)   # gzip: keeps data/ small
  on.exit(close(con))
  writeLines(paste0("{\n", body, "\n}"), con)
}

## ---------------------------------------------------------------- fitting
manifest <- read.csv(file.path(data_dir, "manifest.csv"), stringsAsFactors = FALSE)

for (k in seq_len(nrow(manifest))) {
  m <- manifest[k, ]
  dat <- read.csv(file.path(data_dir, paste0(m$data, ".csv")), check.names = FALSE)
  n <- nrow(dat)
  xcols <- setdiff(names(dat), "y")
  fml <- as.formula(paste("y ~", if (m$intercept == 1) "1" else "0", "+",
                          paste(sprintf("`%s`", xcols), collapse = " + ")))
  ## prior weights are generated, not stored: w_i = 1 + (i %% 3), i 0-based
  w <- if (m$weights == 1) 1 + ((seq_len(n) - 1) %% 3) else NULL
  dat$.w <- if (is.null(w)) rep(1, n) else w

  is_lm <- m$family == "gaussian_lm"
  if (is_lm) {
    fit <- if (is.null(w)) lm(fml, data = dat) else lm(fml, data = dat, weights = .w)
    disp <- summary(fit)$sigma^2
  } else {
    fam <- switch(m$family,
                  binomial = binomial(link = m$link),
                  poisson  = poisson(link = m$link),
                  Gamma    = Gamma(link = m$link))
    ctrl <- glm.control(epsilon = 1e-14, maxit = 200)
    fit <- if (is.null(w)) glm(fml, data = dat, family = fam, control = ctrl)
           else glm(fml, data = dat, family = fam, weights = .w, control = ctrl)
    if (!fit$converged) stop("glm did not converge for ", m$name)
    ## R's hatvalues/residual weights come from the *last IRLS iteration's*
    ## working weights, i.e. evaluated at the penultimate coefficients.  Refit
    ## once starting from the converged coefficients so that every stored
    ## quantity is evaluated at (numerically) the MLE.
    fit <- if (is.null(w)) glm(fml, data = dat, family = fam, control = ctrl,
                               start = coef(fit))
           else glm(fml, data = dat, family = fam, weights = .w, control = ctrl,
                    start = coef(fit))
    if (!fit$converged) stop("glm refit did not converge for ", m$name)
    disp <- summary(fit)$dispersion
  }

  infl <- influence(fit)                 # lm.influence / influence.glm
  im <- influence.measures(fit)
  fields <- list(
    name = jstr(m$name),
    r_version = jstr(R.version.string),
    model = jstr(if (is_lm) "lm" else "glm"),
    family = jstr(if (is_lm) "gaussian" else fit$family$family),
    link = jstr(if (is_lm) "identity" else fit$family$link),
    weights = if (is.null(w)) "false" else "true",
    intercept = if (m$intercept == 1) "true" else "false",
    converged = if (is_lm || fit$converged) "true" else "false",
    n = as.character(n),
    rank = as.character(fit$rank),
    df_residual = as.character(fit$df.residual),
    coef_names = jstrvec(names(coef(fit))),
    coefficients = jvec(coef(fit)),
    dispersion = jnum(disp),
    deviance = jnum(deviance(fit)),
    hatvalues = jvec(hatvalues(fit)),
    residuals_pearson = jvec(residuals(fit, type = "pearson")),
    residuals_deviance = jvec(residuals(fit, type = "deviance")),
    rstandard = jvec(rstandard(fit)),
    rstandard_pearson = if (is_lm) "null" else jvec(rstandard(fit, type = "pearson")),
    rstudent = jvec(rstudent(fit)),
    cooks_distance = jvec(cooks.distance(fit)),
    dffits = jvec(dffits(fit)),
    covratio = jvec(covratio(fit)),
    sigma = jvec(lm.influence(fit)$sigma),
    dfbeta = jmat(dfbeta(fit)),
    dfbetas = jmat(dfbetas(fit)),
    is_inf_columns = jstrvec(colnames(im$is.inf)),
    is_inf = jmat(im$is.inf * 1L, jint)
  )
  out <- file.path(data_dir, paste0(m$name, "_R.json.gz"))
  write_json(fields, out)
  cat(sprintf("%-20s n=%4d p=%2d  %s  -> %s\n", m$name, n, fit$rank,
              if (is_lm) "lm" else paste(fit$family$family, fit$family$link, "iter", fit$iter),
              basename(out)))
}
