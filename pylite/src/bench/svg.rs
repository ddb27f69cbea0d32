//! # A small SVG line-plot writer (log–log), for the bench's warm-up curves
//!
//! A [`Plot`] is a title and panels stacked vertically; a [`Panel`] is a title and
//! [`Series`], each drawn as one `<polyline>` in its own colour with a legend entry.
//! Both axes are logarithmic (iteration counts span six decades, times per iteration
//! three or four): each panel's axes run from the decade below its smallest value to
//! the decade above its largest, with a tick and grid line at every decade (and at
//! 2× and 5× when a panel spans a single decade). Points that a log axis cannot show
//! (zero, negative, not finite) are left out of their polyline.
//!
//! Why not a crate: the plots need lines, ticks and a legend; `plotters` would bring a
//! font stack and many dependencies for that, and pylite has none besides Leones.
//! The output is plain SVG 1.1 text with every attribute quoted and every text node
//! escaped, so it is well-formed XML (the tests check it) and renders in browsers and
//! on GitHub.

/// One line of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    /// An SVG colour (`#rrggbb`).
    pub color: String,
    /// (x, y) data points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// One chart: a title above log–log axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
}

/// Panels stacked vertically under one title, sharing axis labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<Panel>,
}

/// The image's width.
pub const WIDTH: f64 = 800.0;
/// Height of the plot's title band.
const TITLE_H: f64 = 36.0;
/// Height of one panel (its title, plot area, tick labels and x label).
const PANEL_H: f64 = 320.0;
/// The plot area's left and right edges (the legend is right of it).
const AREA_LEFT: f64 = 90.0;
const AREA_RIGHT: f64 = 590.0;
/// The plot area's top and bottom, relative to the panel's top.
const AREA_TOP: f64 = 30.0;
const AREA_BOTTOM: f64 = 260.0;

/// The image's height for `panels` panels.
pub fn height(panels: usize) -> f64 {
    TITLE_H + PANEL_H * panels.max(1) as f64
}

/// A logarithmic axis: decades `lo..hi` (base-10 exponents) onto pixels `from..to`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogAxis {
    pub lo: f64,
    pub hi: f64,
    pub from: f64,
    pub to: f64,
}

impl LogAxis {
    /// The axis covering `values` (positive finite ones) in whole decades; `None`
    /// when there is none.
    pub fn covering(values: impl Iterator<Item = f64>, from: f64, to: f64) -> Option<LogAxis> {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            lo = lo.min(v.log10());
            hi = hi.max(v.log10());
        }
        if lo > hi {
            return None;
        }
        let (lo, mut hi) = (lo.floor(), hi.ceil());
        if hi <= lo {
            hi = lo + 1.0;
        }
        Some(LogAxis { lo, hi, from, to })
    }

    /// The pixel of value `v` (> 0).
    pub fn map(&self, v: f64) -> f64 {
        self.from + (v.log10() - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }

    /// The tick values: every decade, plus 2× and 5× on a single-decade axis.
    pub fn ticks(&self) -> Vec<f64> {
        let decades = (self.lo as i32)..=(self.hi as i32);
        let steps: &[f64] = if self.hi - self.lo <= 1.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        decades
            .flat_map(|d| steps.iter().map(move |m| m * 10f64.powi(d)))
            .filter(|v| v.log10() <= self.hi + 1e-9)
            .collect()
    }
}

/// `v` with an SI prefix and `unit` (`"2 µs"`, `"10k"`), three significant digits at most.
pub fn si_label(v: f64, unit: &str) -> String {
    const PREFIXES: [(f64, &str); 8] = [
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let (scale, prefix) = PREFIXES
        .iter()
        .find(|(s, _)| v.abs() >= *s * (1.0 - 1e-9))
        .copied()
        .unwrap_or(PREFIXES[PREFIXES.len() - 1]);
    let mantissa = format!("{:.2}", v / scale);
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    let space = if unit.is_empty() { "" } else { " " };
    format!("{mantissa}{space}{prefix}{unit}")
}

/// Text escaped for XML content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The points a log–log chart can show: both coordinates positive and finite.
fn drawable(points: &[(f64, f64)]) -> impl Iterator<Item = &(f64, f64)> {
    points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
}

/// Renders the plot as an SVG document.
pub fn render(plot: &Plot) -> String {
    let h = height(plot.panels.len());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" font-family=\"sans-serif\" \
         font-size=\"12\">\n<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        WIDTH / 2.0,
        escape(&plot.title)
    );
    for (i, panel) in plot.panels.iter().enumerate() {
        render_panel(&mut out, plot, panel, TITLE_H + PANEL_H * i as f64);
    }
    out += "</svg>\n";
    out
}

/// One panel whose top edge is at `top`.
fn render_panel(out: &mut String, plot: &Plot, panel: &Panel, top: f64) {
    let (area_top, area_bottom) = (top + AREA_TOP, top + AREA_BOTTOM);
    out.push_str(&format!(
        "<g>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
        (AREA_LEFT + AREA_RIGHT) / 2.0,
        top + 20.0,
        escape(&panel.title)
    ));
    let points = || panel.series.iter().flat_map(|s| drawable(&s.points));
    let x = LogAxis::covering(points().map(|p| p.0), AREA_LEFT, AREA_RIGHT);
    let y = LogAxis::covering(points().map(|p| p.1), area_bottom, area_top);
    let (Some(x), Some(y)) = (x, y) else {
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text>\n</g>\n",
            (AREA_LEFT + AREA_RIGHT) / 2.0,
            (area_top + area_bottom) / 2.0
        ));
        return;
    };
    out.push_str(&format!(
        "<rect x=\"{AREA_LEFT}\" y=\"{area_top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
        AREA_RIGHT - AREA_LEFT,
        area_bottom - area_top
    ));
    for t in x.ticks() {
        let px = x.map(t);
        out.push_str(&format!(
            "<line x1=\"{px:.1}\" y1=\"{area_top}\" x2=\"{px:.1}\" y2=\"{area_bottom}\" stroke=\"#ddd\"/>\n\
             <text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            area_bottom + 16.0,
            escape(&si_label(t, ""))
        ));
    }
    for t in y.ticks() {
        let py = y.map(t);
        out.push_str(&format!(
            "<line x1=\"{AREA_LEFT}\" y1=\"{py:.1}\" x2=\"{AREA_RIGHT}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            AREA_LEFT - 6.0,
            py + 4.0,
            escape(&si_label(t, "s"))
        ));
    }
    out.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{}</text>\n",
        (AREA_LEFT + AREA_RIGHT) / 2.0,
        area_bottom + 36.0,
        escape(&plot.x_label),
        (area_top + area_bottom) / 2.0,
        (area_top + area_bottom) / 2.0,
        escape(&plot.y_label)
    ));
    for (i, s) in panel.series.iter().enumerate() {
        let pts: Vec<String> = drawable(&s.points)
            .map(|&(a, b)| format!("{:.1},{:.1}", x.map(a), y.map(b)))
            .collect();
        let color = escape(&s.color);
        let ly = area_top + 10.0 + 20.0 * i as f64;
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\n\
             <line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"3\"/>\n\
             <text x=\"{}\" y=\"{}\">{}</text>\n",
            pts.join(" "),
            AREA_RIGHT + 12.0,
            AREA_RIGHT + 34.0,
            AREA_RIGHT + 40.0,
            ly + 4.0,
            escape(&s.label)
        ));
    }
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the XML is well-formed: one root, balanced tags, quoted attributes,
    /// no stray `<` or `&` in text. Returns the elements' names in document order.
    fn well_formed(xml: &str) -> Result<Vec<String>, String> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .ok_or("no XML declaration")?;
        let (mut stack, mut names, mut roots) = (Vec::<String>::new(), Vec::new(), 0);
        let mut rest = body;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open])?;
            let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name) {
                    return Err(format!("mismatched </{}>", name));
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            check_attributes(attrs)?;
            if stack.is_empty() {
                roots += 1;
            }
            names.push(name.to_string());
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        check_text(rest)?;
        match (stack.is_empty(), roots) {
            (true, 1) => Ok(names),
            _ => Err(format!("unbalanced: open {:?}, {} roots", stack, roots)),
        }
    }

    fn check_text(text: &str) -> Result<(), String> {
        let mut parts = text.split('&').skip(1);
        match parts.find(|p| !["amp;", "lt;", "gt;", "quot;"].iter().any(|e| p.starts_with(e))) {
            Some(p) => Err(format!("bare & before {:?}", p)),
            None => Ok(()),
        }
    }

    fn check_attributes(mut attrs: &str) -> Result<(), String> {
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                return Ok(());
            }
            let (name, value) = attrs
                .split_once("=\"")
                .ok_or_else(|| format!("unquoted attribute {:?}", attrs))?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("bad attribute name {:?}", name));
            }
            let end = value.find('"').ok_or("unterminated attribute")?;
            check_text(&value[..end])?;
            attrs = &value[end + 1..];
        }
    }

    fn series(label: &str, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.into(),
            color: "#123456".into(),
            points: points.to_vec(),
        }
    }

    fn sample() -> Plot {
        Plot {
            title: "pi <&> \"warm-up\"".into(),
            x_label: "iterations".into(),
            y_label: "s/iteration".into(),
            panels: vec![
                Panel {
                    title: "loop".into(),
                    series: vec![
                        series("interp", &[(16.0, 2e-7), (1e6, 1.5e-7)]),
                        series("jit", &[(16.0, 3e-7), (64.0, 1e-3), (1e6, 2e-9), (0.0, 1.0)]),
                        series("python3", &[(16.0, 5e-8), (1e6, 4e-8)]),
                    ],
                },
                Panel {
                    title: "empty".into(),
                    series: vec![],
                },
            ],
        }
    }

    /// The (x, y) pairs of every polyline, in order.
    fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline"))
            .map(|l| {
                let pts = l.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
                pts.split(' ')
                    .map(|p| {
                        let (a, b) = p.split_once(',').unwrap();
                        (a.parse().unwrap(), b.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn output_is_well_formed_with_one_polyline_per_series() {
        let svg = render(&sample());
        let names = well_formed(&svg).unwrap();
        assert_eq!(names[0], "svg");
        assert_eq!(names.iter().filter(|n| *n == "polyline").count(), 3);
        assert!(svg.contains("pi &lt;&amp;&gt; &quot;warm-up&quot;"));
        assert!(svg.contains(">no data</text>"));
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b></a>").is_err());
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=1/>").is_err());
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>&</a>").is_err());
    }

    #[test]
    fn points_scale_into_the_plot_area_in_order() {
        let svg = render(&sample());
        assert!(svg.contains(&format!("viewBox=\"0 0 {} {}\"", WIDTH, height(2))));
        let lines = polylines(&svg);
        // The point at x = 0 is left out, and its y = 1 s does not stretch the y axis
        // (1 ms is the largest value drawn: the axis tops out at 1 ms).
        assert_eq!(lines.iter().map(Vec::len).collect::<Vec<_>>(), [2, 3, 2]);
        assert!(svg.contains(">1 ms</text>") && !svg.contains(">10 ms</text>"));
        let (top, bottom) = (TITLE_H + AREA_TOP, TITLE_H + AREA_BOTTOM);
        for &(x, y) in lines.iter().flatten() {
            assert!((AREA_LEFT..=AREA_RIGHT).contains(&x), "{}", x);
            assert!((top..=bottom).contains(&y), "{}", y);
        }
        // x axis 10..1e6 (five decades): 16 and 64 land where a log scale puts them,
        // 1e6 on the right edge.
        let jit = &lines[1];
        let span = AREA_RIGHT - AREA_LEFT;
        assert!((jit[0].0 - (AREA_LEFT + (16f64.log10() - 1.0) / 5.0 * span)).abs() < 0.1);
        assert!((jit[1].0 - (AREA_LEFT + (64f64.log10() - 1.0) / 5.0 * span)).abs() < 0.1);
        assert!((jit[2].0 - AREA_RIGHT).abs() < 0.1);
        // Slower is higher: the 1 ms chunk is above (smaller y) the 2 ns one.
        assert!(jit[1].1 < jit[2].1);
    }

    #[test]
    fn log_axes_cover_whole_decades() {
        let a = LogAxis::covering([3e-9, 2e-6, 0.0, f64::NAN].into_iter(), 0.0, 100.0).unwrap();
        assert_eq!((a.lo, a.hi), (-9.0, -5.0));
        assert_eq!(a.ticks().len(), 5);
        assert!((a.map(1e-7) - 50.0).abs() < 1e-9);
        let one = LogAxis::covering([3.0, 3.0].into_iter(), 0.0, 1.0).unwrap();
        assert_eq!((one.lo, one.hi), (0.0, 1.0));
        assert_eq!(one.ticks(), [1.0, 2.0, 5.0, 10.0]);
        assert_eq!(LogAxis::covering([0.0, -1.0].into_iter(), 0.0, 1.0), None);
    }

    #[test]
    fn tick_labels_use_si_prefixes() {
        assert_eq!(si_label(1e-7, "s"), "100 ns");
        assert_eq!(si_label(2e-6, "s"), "2 µs");
        assert_eq!(si_label(1.0, "s"), "1 s");
        assert_eq!(si_label(10_000.0, ""), "10k");
        assert_eq!(si_label(5e6, ""), "5M");
        assert_eq!(si_label(10.0, ""), "10");
    }
}
