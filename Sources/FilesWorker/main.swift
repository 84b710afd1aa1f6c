import BlytzData
import BlytzServices
import Files

ServiceMain.main(functions: Files.functions, migrations: Files.migrations, setup: ServiceParts.setup)
