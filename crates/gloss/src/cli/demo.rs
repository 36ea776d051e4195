//! The demo project `gloss serve --demo` seeds: generated street scenes with
//! boxes and polygons to draw, and a model's predictions to correct.

use anyhow::{Context, Result};
use gloss_engine::{Actor, Engine, ImportFile, ImportOptions, ProjectInput};
use gloss_formats::InputFormat;
use image::{Rgb, RgbImage};
use serde_json::{json, Value};

/// The label config of the demo project: boxes and polygons on images, and a class per image.
pub const DEMO_CONFIG: &str = r##"<View>
  <Header value="Draw a box around each vehicle and a polygon around the road, then pick the scene"/>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car" background="#2563eb" hotkey="1"/>
    <Label value="Truck" background="#16a34a" hotkey="2"/>
    <Label value="Bicycle" background="#db2777" hotkey="3"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image">
    <Label value="Road" background="#f59e0b"/>
  </PolygonLabels>
  <Choices name="scene" toName="image" choice="single">
    <Choice value="Urban"/>
    <Choice value="Rural"/>
  </Choices>
</View>
"##;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 400;
const SCENES: u32 = 6;

/// Creates the demo project, with its images and predictions, when the
/// instance has no projects yet.
pub async fn seed(engine: &Engine) -> Result<()> {
    if engine.store().count_projects().await? > 0 {
        return Ok(());
    }
    let input = ProjectInput {
        name: "Demo: vehicles".to_string(),
        description: "A demo project: generated street scenes. Correct the model's boxes and \
                      road outline, then pick the scene."
            .to_string(),
        label_config: DEMO_CONFIG.to_string(),
    };
    let project = engine.create_project(&Actor::Operator, input).await?;
    let folder = tempfile::tempdir().context("creating a folder for the demo images")?;
    let mut tasks = Vec::new();
    for scene in 0..SCENES {
        let name = format!("street-{}.png", scene + 1);
        let (picture, vehicles, road) = street_scene(scene);
        picture
            .save(folder.path().join(&name))
            .context("writing a demo image")?;
        tasks.push(json!({
            "data": {"image": name},
            "predictions": [{
                "model_version": "demo-detector-1",
                "score": 0.62 + 0.05 * f64::from(scene % 4),
                "result": prediction(&vehicles, &road, scene),
            }],
        }));
    }
    let tasks_file = folder.path().join("tasks.json");
    std::fs::write(&tasks_file, Value::Array(tasks).to_string())
        .context("writing the demo tasks")?;
    let options = ImportOptions {
        format: Some(InputFormat::Json),
        images_dir: Some(folder.path().to_path_buf()),
        ..ImportOptions::default()
    };
    let files = vec![ImportFile {
        name: "demo tasks".to_string(),
        path: tasks_file,
    }];
    let job = engine
        .import_files(&Actor::Operator, project.id, files, options)
        .await?;
    if let Some(error) = job.error {
        anyhow::bail!("seeding the demo failed: {error} {:?}", job.rejected);
    }
    println!(
        "Created the demo project `{}` (id {}) with {} tasks",
        project.name, project.id, job.tasks_created
    );
    Ok(())
}

/// A vehicle drawn in a scene: its label and box in pixels.
struct Vehicle {
    label: &'static str,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

/// A simple street: sky, grass, a road narrowing to the horizon, and a few vehicles.
fn street_scene(scene: u32) -> (RgbImage, Vec<Vehicle>, Vec<(f64, f64)>) {
    let horizon = 150 + 10 * (scene % 3);
    let rural = scene % 2 == 1;
    let sky = if rural {
        Rgb([150, 200, 240])
    } else {
        Rgb([170, 180, 195])
    };
    let ground = if rural {
        Rgb([90, 160, 80])
    } else {
        Rgb([140, 140, 135])
    };
    let mut picture =
        RgbImage::from_fn(WIDTH, HEIGHT, |_, y| if y < horizon { sky } else { ground });
    // The road: a trapezoid from the bottom edge to the horizon.
    let road = vec![
        (40.0 + 20.0 * f64::from(scene), f64::from(HEIGHT)),
        (600.0 - 15.0 * f64::from(scene), f64::from(HEIGHT)),
        (360.0, f64::from(horizon)),
        (290.0, f64::from(horizon)),
    ];
    for y in horizon..HEIGHT {
        let t = f64::from(y - horizon) / f64::from(HEIGHT - horizon);
        let left = road[3].0 + (road[0].0 - road[3].0) * t;
        let right = road[2].0 + (road[1].0 - road[2].0) * t;
        for x in left.max(0.0) as u32..(right as u32).min(WIDTH) {
            picture.put_pixel(x, y, Rgb([60, 60, 65]));
        }
    }
    let kinds: [(&str, u32, u32, Rgb<u8>); 3] = [
        ("Car", 110, 60, Rgb([37, 99, 235])),
        ("Truck", 150, 95, Rgb([22, 163, 74])),
        ("Bicycle", 50, 45, Rgb([219, 39, 119])),
    ];
    let mut vehicles = Vec::new();
    for index in 0..(2 + scene % 3) {
        let (label, width, height, colour) = kinds[((scene + index) % 3) as usize];
        let x = 60 + (index * 170 + scene * 37) % (WIDTH - width - 80);
        let y = horizon + 40 + (index * 53 + scene * 11) % (HEIGHT - horizon - height - 45);
        for dy in 0..height {
            for dx in 0..width {
                // A darker window band makes the shapes read as vehicles.
                let shade = if dy < height / 3 && dx > width / 5 && dx < width * 4 / 5 {
                    Rgb([colour[0] / 2, colour[1] / 2, colour[2] / 2])
                } else {
                    colour
                };
                picture.put_pixel(x + dx, y + dy, shade);
            }
        }
        vehicles.push(Vehicle {
            label,
            x,
            y,
            width,
            height,
        });
    }
    (picture, vehicles, road)
}

/// The demo model's guesses: a little off, and one label wrong in some
/// scenes, so that there is something to correct.
fn prediction(vehicles: &[Vehicle], road: &[(f64, f64)], scene: u32) -> Value {
    let percent_x = |x: f64| x * 100.0 / f64::from(WIDTH);
    let percent_y = |y: f64| y * 100.0 / f64::from(HEIGHT);
    let mut results = Vec::new();
    for (index, vehicle) in vehicles.iter().enumerate() {
        let nudge = 4.0 * f64::from((scene + index as u32) % 3) - 4.0;
        let label = if scene % 3 == 2 && index == 0 {
            "Truck"
        } else {
            vehicle.label
        };
        results.push(json!({
            "id": format!("pred-{scene}-{index}"),
            "from_name": "box",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": WIDTH,
            "original_height": HEIGHT,
            "value": {
                "x": percent_x(f64::from(vehicle.x) + nudge),
                "y": percent_y(f64::from(vehicle.y) - nudge),
                "width": percent_x(f64::from(vehicle.width)),
                "height": percent_y(f64::from(vehicle.height)),
                "rotation": 0,
                "rectanglelabels": [label],
            },
        }));
    }
    let points: Vec<Value> = road
        .iter()
        .map(|(x, y)| json!([percent_x(*x), percent_y(*y)]))
        .collect();
    results.push(json!({
        "id": format!("pred-{scene}-road"),
        "from_name": "outline",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": WIDTH,
        "original_height": HEIGHT,
        "value": {"points": points, "polygonlabels": ["Road"], "closed": true},
    }));
    results.push(json!({
        "id": format!("pred-{scene}-scene"),
        "from_name": "scene",
        "to_name": "image",
        "type": "choices",
        "value": {"choices": [if scene % 2 == 1 { "Rural" } else { "Urban" }]},
    }));
    Value::Array(results)
}
