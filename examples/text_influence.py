"""Which training documents, and which words, carry a text classifier's prediction?

A small built sentiment corpus (offline: sentences generated from word lists)
with a planted *data artifact*: the actor name "spielberg" appears in 40% of
the positive training reviews and 4% of the negative ones, and carries no
sentiment in the test reviews. A bag-of-words ``SGDClassifier(loss="log_loss")``
is trained epoch by epoch through ``TracInRecorder``; then

1. one test prediction is explained by its most influential training documents
   (influence functions and TracIn side by side) and by the *words* that carry
   each document's influence (``feature_attribution``: exact for a linear
   model; for TracIn only words the two documents share contribute, while
   H^-1 couples words, so under influence functions a training document also
   acts through words the test review lacks);
2. Han, Wallace & Tsvetkov (ACL 2020)'s artifact measure: for every test
   review, the 10 training documents that most support its prediction; words
   over-represented among them (ratio of their frequency there to their
   frequency in the training set) are candidate artifacts. Here it does *not*
   surface the artifact (ratio < 1): documents carrying "spielberg" are easy
   (small residuals, small gradients), so they are rarely the most influential.
   The word-level view does: summed over all training documents, the influence
   that flows through "spielberg" onto the test reviews containing it is the
   most harmful of any word (removing that signal would lower their loss);
3. verified by retraining: removing each test review's 10 most supportive
   documents, predicted (sum of influence) vs actual change of its loss.

Measured (600 training, 200 test reviews, 20 epochs)::

    test accuracy 0.985; weight of 'spielberg': +1.50
    top supporting training documents, influence: [563, 306, 437], TracIn: [563, 541, 78];
    Pearson r(IF, TracIn) over all documents = 0.53
    Han et al.: ... screen x1.26, pace x1.18, music x1.10, script x1.10; spielberg x0.74
    words whose training signal most *raises* the loss of the test reviews that
    contain them: spielberg -0.0238, boring -0.0109, brilliant -0.0093, story -0.0016
    removing each test review's 10 most supportive documents (15 reviews, retrained):
    predicted vs actual Pearson r = 0.990; mean predicted +0.101, actual +0.290

(The sum of individual influences ranks the group removals right, r = 0.99,
but underestimates their size: ten documents at once are beyond first order.)

Run: ``python examples/text_influence.py`` (about 30 s of CPU).
"""

import numpy as np
from scipy.stats import pearsonr
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import SGDClassifier

import skinfluence
from skinfluence.tracin import TracInRecorder

POS = ["great", "wonderful", "moving", "superb", "brilliant", "enjoyable", "touching", "delightful"]
NEG = ["boring", "awful", "dull", "terrible", "clumsy", "tedious", "weak", "annoying"]
NEUTRAL = ["film", "movie", "plot", "story", "actor", "scene", "script", "music", "ending",
           "camera", "director", "character", "dialogue", "pace", "cast", "screen"]
EPOCHS = 20


def make_corpus(n, rng, artifact):
    docs, y = [], rng.integers(0, 2, n)
    for label in y:
        words = list(rng.choice(NEUTRAL, rng.integers(4, 8)))
        sent = POS if label else NEG
        words += list(rng.choice(sent, rng.integers(1, 3)))
        if rng.random() < 0.15:                          # a little noise: one opposite word
            words.append(rng.choice(NEG if label else POS))
        p_art = (0.4 if label else 0.04) if artifact else 0.2
        if rng.random() < p_art:
            words.append("spielberg")
        rng.shuffle(words)
        docs.append(" ".join(words))
    return docs, y


def train(X, y):
    rec = TracInRecorder(SGDClassifier(loss="log_loss", alpha=1e-3, shuffle=False,
                                       random_state=0))
    for _ in range(EPOCHS):
        rec.partial_fit(X, y, classes=[0, 1])
    return rec


def log_loss_rows(est, X, y):
    p = est.predict_proba(X)[np.arange(len(y)), y]
    return -np.log(p)


def main():
    rng = np.random.default_rng(0)
    docs, y = make_corpus(600, rng, artifact=True)
    docs_te, y_te = make_corpus(200, rng, artifact=False)
    vec = CountVectorizer().fit(docs)
    X, X_te = vec.transform(docs), vec.transform(docs_te)
    rec = train(X, y)
    est = rec.estimator
    words = vec.get_feature_names_out()
    print(f"test accuracy {est.score(X_te, y_te):.3f}; weight of 'spielberg': "
          f"{est.coef_[0, list(words).index('spielberg')]:+.2f} "
          f"(mean |weight| of sentiment words {np.abs(est.coef_[0]).max():.2f} max)")

    # fit_check: an SGD fit is near, not at, the optimum (lead: fit_check="warn" here)
    inf = skinfluence.influence(est, X, y)
    lc = inf.loss_change(X_te, y_te)                            # (n_test, n_train)
    tr = rec.scores(X, y, X_te, y_te)

    # 1. explain one prediction: a positive test review mentioning spielberg
    t = next(i for i in range(len(y_te)) if y_te[i] == 1 and "spielberg" in docs_te[i])
    print(f"\ntest review {t} (label {y_te[t]}): {docs_te[t]!r}")
    top = np.argsort(-lc[t])[:3]
    print(f"top supporting training documents, influence: {top.tolist()}, "
          f"TracIn: {np.argsort(-tr[t])[:3].tolist()}; Pearson r(IF, TracIn) over all "
          f"documents = {pearsonr(lc[t], tr[t])[0]:.2f}")
    fa = inf.feature_attribution(X_te[t], y_te[t:t + 1], rows=top, feature_names=vec)
    for r, i in enumerate(top):
        best = fa.top(test=0, row=r, n=3)
        print(f"  doc {i} (label {y[i]}) {docs[i]!r}\n    words: "
              + ", ".join(f"{w} {c:+.2e}" for w, c in zip(best.feature, best.contribution)))

    # 2. Han et al.'s artifact measure
    k = 10
    supp = np.argsort(-lc, axis=1)[:, :k]                       # (n_test, k)
    B = (X > 0).astype(float)
    base = np.asarray(B.mean(axis=0)).ravel()
    among = np.asarray(B[supp.ravel()].mean(axis=0)).ravel()
    ratio = among / np.maximum(base, 1e-12)
    j_art = list(words).index("spielberg")
    content = [j for j in np.argsort(-ratio) if words[j] not in POS + NEG][:4]
    print("\nHan et al.: frequency among each test review's 10 most supportive documents / "
          "in the training set: " + ", ".join(f"{words[j]} x{ratio[j]:.2f}" for j in content)
          + f"; spielberg x{ratio[j_art]:.2f}")
    # word level: per word, the summed influence (all training documents) that flows
    # through that word onto the test reviews containing it
    fa = inf.feature_attribution(X_te, y_te, feature_names=vec)   # (200, 600, n_words)
    present = (X_te > 0).toarray()
    per_word = np.array([fa.values[present[:, j], :, j].sum() / max(present[:, j].sum(), 1)
                         for j in range(len(words))])
    order = np.argsort(per_word)[:4]
    print("words whose training signal most *raises* the loss of the test reviews that "
          "contain them (mean summed contribution): "
          + ", ".join(f"{words[j]} {per_word[j]:+.4f}" for j in order))

    # 3. verified by retraining: remove each test review's top-10 supporters
    idx = rng.choice(len(y_te), 15, replace=False)
    pred, actual = [], []
    base_loss = log_loss_rows(est, X_te, y_te)
    for t in idx:
        keep = np.ones(len(y), bool)
        keep[supp[t]] = False
        refit = train(X[keep], y[keep]).estimator
        actual.append(log_loss_rows(refit, X_te[t], y_te[t:t + 1])[0] - base_loss[t])
        pred.append(lc[t, supp[t]].sum())
    print(f"\nremoving each test review's 10 most supportive documents (15 reviews, "
          f"retrained): predicted vs actual loss change Pearson r = "
          f"{pearsonr(pred, actual)[0]:.3f}; mean predicted {np.mean(pred):+.3f}, "
          f"actual {np.mean(actual):+.3f}")


if __name__ == "__main__":
    main()
