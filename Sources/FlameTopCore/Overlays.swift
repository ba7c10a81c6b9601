extension Renderer {
    mutating func drawDialog() {
        switch model.dialog {
        case .help: drawHelp()
        case .scale(let form): drawScale(form)
        case .confirm(let confirmation): drawConfirm(confirmation)
        case nil: break
        }
    }

    /// A bordered box centred on the screen; returns its inner origin.
    mutating func box(width w: Int, height h: Int, title: String) -> (x: Int, y: Int) {
        let w = min(w, width - 2), h = min(h, height - 2)
        let x = (width - w) / 2, y = (height - h) / 2
        screen.fill(x: x, y: y, width: w, height: h, role: .dialogText)
        let (horizontal, vertical, corners): (Character, Character, [Character]) =
            unicode ? ("─", "│", ["┌", "┐", "└", "┘"]) : ("-", "|", ["+", "+", "+", "+"])
        for column in x..<(x + w) {
            screen.put(String(horizontal), x: column, y: y, role: .dialogBorder)
            screen.put(String(horizontal), x: column, y: y + h - 1, role: .dialogBorder)
        }
        for row in y..<(y + h) {
            screen.put(String(vertical), x: x, y: row, role: .dialogBorder)
            screen.put(String(vertical), x: x + w - 1, y: row, role: .dialogBorder)
        }
        screen.put(String(corners[0]), x: x, y: y, role: .dialogBorder)
        screen.put(String(corners[1]), x: x + w - 1, y: y, role: .dialogBorder)
        screen.put(String(corners[2]), x: x, y: y + h - 1, role: .dialogBorder)
        screen.put(String(corners[3]), x: x + w - 1, y: y + h - 1, role: .dialogBorder)
        screen.put(" \(title) ", x: x + 2, y: y, role: .dialogBorder)
        return (x + 2, y + 1)
    }

    mutating func drawHelp() {
        let bindings = KeyMap.all.filter { !(model.readOnly && KeyMap.readOnlyHidden.contains($0.keys)) }
        let origin = box(width: 72, height: bindings.count + 4, title: "flame-top keys")
        for (row, binding) in bindings.enumerated() {
            let x = screen.put(Format.padded(binding.keys, 11), x: origin.x, y: origin.y + row, role: .footerKey, limit: 11)
            screen.put(" " + binding.help, x: x, y: origin.y + row, role: .dialogText, limit: 56)
        }
        screen.put("Esc or ? closes", x: origin.x, y: origin.y + bindings.count + 1, role: .dim)
    }

    mutating func drawScale(_ form: Model.ScaleForm) {
        let origin = box(width: 44, height: 8, title: "scale \(form.pool)")
        for (row, (label, value)) in [("min", form.min), ("max", form.max)].enumerated() {
            let x = screen.put("\(label): ", x: origin.x, y: origin.y + 1 + row, role: .dialogText)
            let shown = Format.padded(value + (form.field == row ? (unicode ? "▏" : "_") : ""), 8)
            screen.put(shown, x: x, y: origin.y + 1 + row, role: form.field == row ? .selection : .dialogText)
        }
        if let error = form.error { screen.put(error, x: origin.x, y: origin.y + 4, role: .statusError, limit: 40) }
        screen.put("Tab switches, Enter applies, Esc cancels", x: origin.x, y: origin.y + 5, role: .dim, limit: 40)
    }

    mutating func drawConfirm(_ confirmation: Model.Confirmation) {
        let w = max(36, confirmation.title.count + 6)
        let origin = box(width: w, height: 6, title: "confirm")
        screen.put(confirmation.title, x: origin.x, y: origin.y + 1, role: .dialogText, limit: w - 4)
        let x = screen.put(" No ", x: origin.x, y: origin.y + 3, role: confirmation.yes ? .dialogText : .selection)
        screen.put(" Yes ", x: x + 2, y: origin.y + 3, role: confirmation.yes ? .selection : .dialogText)
    }
}
