import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("Recipe variables")
struct RecipeVariablesTests {
    /// A recipe whose data folder and output come from `${DATA}` and `${OUT}`, with a comment naming an unset variable.
    func write(_ text: String) throws -> (URL, URL) {
        let dir = temporaryFolder()
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("{\"text\": \"a\", \"label\": \"a\"}\n".utf8).write(to: data.appendingPathComponent("x.jsonl"))
        let url = dir.appendingPathComponent("recipe.yaml")
        try Data(text.utf8).write(to: url)
        return (url, data)
    }

    @Test("${NAME} comes from the given variables, else the environment; comment lines are left alone")
    func expansion() throws {
        let (url, data) = try write("""
        # Set ${DISTILL_TEST_NEVER_SET} first (a comment: not expanded)
        labels: [a]
        data:
          labelled: ${DATA}/x.jsonl
        student:
          kind: ngram-bag
        output: ${DISTILL_TEST_RECIPE_OUT}/run
        """)
        setenv("DISTILL_TEST_RECIPE_OUT", "/tmp/from-environment", 1)
        let fromEnvironment = try Recipe.load(url, variables: ["DATA": data.path])
        #expect(fromEnvironment.data.labelled?.path == data.appendingPathComponent("x.jsonl").path)
        #expect(fromEnvironment.output.path == "/tmp/from-environment/run")
        let given = try Recipe.load(url, variables: ["DATA": data.path, "DISTILL_TEST_RECIPE_OUT": "/tmp/given"])
        #expect(given.output.path == "/tmp/given/run")
    }

    @Test("an unset variable, a bad name or a missing brace is an error naming the recipe's line", arguments: [
        ("labels: [a]\ndata:\n  labelled: ${DISTILL_TEST_NEVER_SET}/x.jsonl\n", "recipe.yaml:3: ${DISTILL_TEST_NEVER_SET} is not set (set the environment variable DISTILL_TEST_NEVER_SET)"),
        ("labels: [a]\n\ndata:\n  labelled: ${A-B}/x.jsonl\n", "recipe.yaml:4: '${A-B}' is not a variable name"),
        ("labels: [a]\ndata:\n  labelled: ${DATA/x.jsonl\n", "recipe.yaml:3: '${' without a closing '}'"),
    ])
    func errors(_ c: (String, String)) throws {
        let (url, data) = try write(c.0)
        do {
            _ = try Recipe.load(url, variables: ["DATA": data.path])
            Issue.record("accepted: \(c.0)")
        } catch let error as RecipeError {
            #expect(error.localizedDescription.hasSuffix(c.1) || error.localizedDescription.contains(c.1), "\(error.localizedDescription)")
        }
    }
}
