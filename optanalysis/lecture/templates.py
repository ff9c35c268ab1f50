"""The page skeletons (``string.Template``: ``$name`` placeholders, filled with HTML fragments)."""
from string import Template

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optanalysis $version">
<title>$title — optanalysis lecture</title>
<link rel="stylesheet" href="static/lecture.css">
</head>
<body>
<header class="site"><nav>$nav</nav></header>
<main>
<h1>$title</h1>
<p class="summary">$summary</p>
$body
</main>
<footer>
<p>Built by <code>optanalysis lecture</code> (optanalysis $version). Every formula is derived by the
package from the rule's own definition and converted to MathML when the site was built: the browser
typesets it with no network and no script. Every figure is a study's output, judged against
expectations written from theory before it ran; its records and data are beside it.</p>
<p class="screen-only">The interactive figure is computed in advance on a grid by the package and
shipped with the page; its sliders need JavaScript, nothing else does. Print this page for a
handout.</p>
</footer>
$scripts
</body>
</html>
""")

EXPLORER = Template("""<figure class="explorer" data-rule="$rule">
<div class="controls">
<label>step size <input type="range" name="lr" min="0" max="$lr_max" value="$lr_value" aria-label="step size"><output name="lr"></output></label>
$momentum
<label>curvature range <input type="range" name="kappa" min="0" max="$kappa_max" value="1" aria-label="condition number"><output name="kappa"></output></label>
</div>
<div class="panels">
<svg class="region" viewBox="0 0 360 260" role="img" aria-label="stability region: spectral radius over step size and momentum"></svg>
<svg class="trajectory" viewBox="0 0 360 260" role="img" aria-label="the run's loss against the step"></svg>
</div>
<figcaption class="readout">This figure needs JavaScript.</figcaption>
</figure>
<p class="note">Left: the derived spectral radius ρ over the grid (darker is faster, grey is
unstable), the derived largest stable step at h = L (dashed) and the chosen point. Right: the
compiled kernel's run from x₀ = 1 on five curvatures geometrically spaced in [1/κ, 1].</p>""")

MOMENTUM = Template("""<label>momentum <input type="range" name="momentum" min="0" max="$max" value="$value" aria-label="momentum"><output name="momentum"></output></label>""")

INDEX = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optanalysis $version">
<title>optanalysis lecture: first-order optimizers on quadratics</title>
<link rel="stylesheet" href="static/lecture.css">
</head>
<body>
<header class="site"><nav><a href="index.html">Course</a></nav></header>
<main>
<h1>First-order optimizers on quadratics</h1>
<p class="summary">A course in $count lessons, built by optanalysis from its own derivations, runs and
studies. Each page gives the algorithm, what theory derives about it on quadratic models (typeset in
the literature's notation), the exact semantics of torch.optim and optax, an interactive figure for
the linear rules, and the studies that put the lesson's claims to the test, with their verdicts.</p>
<ol class="topics">
$topics
</ol>
$docs
</main>
<footer><p>Built by <code>optanalysis lecture</code> (optanalysis $version). Formulas are MathML made
at build time; the site needs no server and no network: open <code>index.html</code>.</p></footer>
</body>
</html>
""")
